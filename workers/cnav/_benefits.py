"""What CNAV's benefit datasets share (RSA, prime d'activité, AAH, ASF, AEEH, C2S, EAJE): the
identity pivot as API Particulier checks it on those routes, the not-found detail, and the
right (``droitOuvert``, ``dateOuvertureDroit``) most of them answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from broker.kit import Dataset, Shape

from ._upstream import ERRORS, CnavCivility, identity_params, prestation

NOT_FOUND_DETAIL = "Dossier allocataire inexistant. Le document ne peut être édité."
"""What the CNAV says when it holds no file for the person on these routes."""

_MONTH: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=12)])
_DAY: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=31)])
_DATE_PARTS = (
    ("anneeDateNaissance", "moisDateNaissance", _MONTH),
    ("moisDateNaissance", "jourDateNaissance", _DAY),
)


def _well_formed(adapter: TypeAdapter[int], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


class BenefitCivility(CnavCivility):
    """The identity pivot of the benefit routes, where API Particulier asks less than elsewhere.

    Only the birth name and the sex are required: a commune code alone locates a birth, and
    the birth country may be left out. A well-formed month or day given without the part above
    it is ignored (the upstream matches a date only from the year down); a malformed one is
    still refused. Names hold letters, spaces, hyphens and apostrophes only.
    """

    required: ClassVar[frozenset[str]] = frozenset({"nomNaissance", "sexeEtatCivil"})
    letters_only_names: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _orphan_date_parts(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        kept = dict(data)
        for upper, name, adapter in _DATE_PARTS:
            value = kept.get(name)
            if kept.get(upper) is None and value is not None and _well_formed(adapter, value):
                del kept[name]
        return kept


benefit = partial(
    prestation,
    params=BenefitCivility,
    not_found=replace(ERRORS.not_found, detail=NOT_FOUND_DETAIL),
)
"""Declares a benefit dataset (see :func:`prestation`): searched with :class:`BenefitCivility`,
answering :data:`NOT_FOUND_DETAIL` when the CNAV holds no file."""


def right_shape(**details: str) -> Shape:
    """A right as the CNAV names it, with the benefit's own ``details`` (API name -> CNAV's)
    between whether it is open and since when, in the order API Particulier answers them."""
    return {"est_beneficiaire": "droitOuvert", **details, "date_debut_droit": "dateOuvertureDroit"}


class Droit(BaseModel):
    """A right the person holds or not, and since when (AAH, ASF)."""

    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    date_debut_droit: str | None = None


class DroitMajore(BaseModel):
    """A right that may come with the single-parent increase (RSA, prime d'activité)."""

    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    avec_majoration: bool | None = None
    date_debut_droit: str | None = None


SYNTHETIC_EXAMPLE = identity_params("BABABABABA", ["CAMILLE", "LEA"], "F", "1998-03-10", "33063")
"""The first found person of the synthetic population, whom the simulator always answers 200:
the example of a dataset whose staging cases answering 200 are not in the shared sample."""


def right(
    name: str,
    *,
    path: str,
    title: str,
    data: type[Droit | DroitMajore],
    example_params: Mapping[str, Any],
) -> Dataset:
    """A benefit answering a :class:`Droit`, or a :class:`DroitMajore` whose increase is
    granted by its own scope; API Particulier names the scopes after the dataset."""
    scopes: dict[str, tuple[str, ...]] = {name: ("est_beneficiaire", "date_debut_droit")}
    details: dict[str, str] = {}
    if issubclass(data, DroitMajore):
        scopes[f"{name}_majoration"] = ("avec_majoration",)
        details["avec_majoration"] = "majorationIsolement"
    return benefit(
        name,
        path=path,
        title=title,
        shape=right_shape(**details),
        data=data,
        scopes=scopes,
        example_params=example_params,
    )
