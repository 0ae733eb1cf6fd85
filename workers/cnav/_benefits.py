"""What CNAV's benefit datasets share (RSA, prime d'activité, AAH, ASF, AEEH, C2S, EAJE): the
identity pivot as API Particulier checks it on those routes and the not-found detail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Annotated, Any, ClassVar

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from ._upstream import ERRORS, CnavCivility, prestation

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
