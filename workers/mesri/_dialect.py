"""The MESRI upstream dialect (the student register of higher education).

``GET /v1/statut-etudiant`` with either ``?ine=<INE>`` or the identity
``?nom=&prenom=&dateNaissance=YYYY-MM-DD&sexe=1|2&communeNaissance=<COG>`` (absent fields left
out). A known student is answered 200 with ``{"etudiant": {...}, "inscriptions": [...]}``; a
failure carries ``{"anomalie": {"code", "libelle"}}`` with a 4xx status. The worker and the
simulator both build the query with :func:`query_of`, so that cases are keyed on exactly what
is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from broker.civility import IneOrCivility
from broker.dialect import Renaming, Shape
from broker.errors import BROKER, ErrorSpec, ProblemError, ProviderErrors
from broker.simulation import canonical_key
from broker.upstream import UpstreamCall

_BASE = ProviderErrors(label="MESRI", number=25)
ERRORS = ProviderErrors(
    label="MESRI",
    number=25,
    overrides={
        "not_found": replace(
            _BASE.not_found,
            detail="Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis.",
        )
    },
)

PATH = "v1/statut-etudiant"
UNKNOWN_STUDENT = "ETUDIANT_INCONNU"
IDENTITY_REJECTED = "IDENTITE_INVALIDE"
INE_REJECTED = "INE_INVALIDE"

BY_ANOMALY: dict[str, ErrorSpec] = {
    UNKNOWN_STUDENT: ERRORS.not_found,
    IDENTITY_REJECTED: BROKER.CIVILITY_INVALID,
    INE_REJECTED: BROKER.INE_INVALID,
}
"""Upstream ``anomalie.code`` -> what the broker answers."""

_SEX_CODES = {"M": "1", "F": "2"}


class StudentParams(IneOrCivility):
    """Either pivot: the INE alone (``/ine`` route), or the identity (``/identite`` route).

    Without an INE, the birth name, full birth date and sex are required; first names are not,
    as staging answers an identity given with a misspelt ``prenom`` (200), although the OpenAPI
    file marks them as required.
    """

    identity_required: ClassVar[tuple[str, ...]] = (
        "nomNaissance",
        "anneeDateNaissance",
        "moisDateNaissance",
        "jourDateNaissance",
        "sexeEtatCivil",
    )
    letters_only_names: ClassVar[bool] = True


def query_of(params: StudentParams) -> dict[str, str]:
    """The upstream query for ``params``: the register takes one first name."""
    if params.ine is not None:
        return {"ine": params.ine}
    query = {
        "nom": params.nomNaissance,
        "prenom": params.prenoms[0] if params.prenoms else None,
        "dateNaissance": params.birth_date_text(),
        "sexe": _SEX_CODES.get(params.sexeEtatCivil or ""),
        "communeNaissance": params.codeCogInseeCommuneNaissance,
    }
    return {k: v for k, v in query.items() if v is not None}


def query_key(query: Mapping[str, str]) -> str:
    return canonical_key(dict(query))


@dataclass(frozen=True)
class Register:
    """How the register's answer is read: its renaming and the data model it must fit."""

    shape: Shape
    data: type[BaseModel]
    renaming: Renaming = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "renaming", Renaming(self.shape))

    def fetcher(self) -> Callable[[UpstreamCall, StudentParams], Any]:
        async def fetch(call: UpstreamCall, params: StudentParams) -> dict[str, Any]:
            response = await call.request("GET", PATH, params=query_of(params))
            body = call.json(response)
            if not isinstance(body, dict):
                raise call.invalid()
            anomaly = body.get("anomalie")
            if response.status_code == 200 and anomaly is None:
                return self.decode(call, body)
            code = anomaly.get("code") if isinstance(anomaly, dict) else None
            spec = BY_ANOMALY.get(str(code))
            if spec is None or response.status_code == 200:
                raise call.invalid()
            raise ProblemError(spec)

        return fetch

    def decode(self, call: UpstreamCall, body: dict[str, Any]) -> dict[str, Any]:
        try:
            data = self.renaming.decode(body)
            self.data.model_validate(data)
        except (TypeError, ValidationError):
            raise call.invalid() from None
        if not isinstance(data, dict):
            raise call.invalid()
        return data
