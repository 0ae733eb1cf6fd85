"""What the MEN pupils' register (ministère de l'Éducation nationale) speaks.

One API version per dataset version (``v1`` for API Particulier v3, ``v2`` for v4), two ways to
search a pupil for a school year:

- ``GET /<api>/eleves?nom=&prenom=&sexe=1|2&date-naissance=&code-uai=&annee-scolaire=``: in
  one school;
- ``POST /<api>/eleves/recherche-perimetre`` with ``{"nom", "prenom", "sexe", "date-naissance",
  "annee-scolaire", "degre-etablissement", "type-perimetre": "departement"|"region",
  "valeurs-perimetre": [...]}``: in the schools of an area.

A found pupil is answered 200 with the schooling record; a failure carries
``{"erreurs": [{"code", "message"}]}`` with a 4xx status. The worker and the simulator both build
requests with :func:`request_of`, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from broker.errors import BROKER, ErrorSpec, ProviderErrors
from broker.kit import (
    Civility,
    Envelope,
    ErrorCode,
    ParamsProblem,
    UpstreamRequest,
    VersionedUpstream,
)

ERRORS = ProviderErrors(
    label="MEN",
    number=30,
    not_found_detail="Aucun élève n'a pu être trouvé avec les critères de recherche fournis.",
)

IDENTITY_REJECTED = "IDENTITE_INVALIDE"
BY_ERROR: dict[str, ErrorSpec] = {
    "ELEVE_NON_TROUVE": ERRORS.not_found,
    IDENTITY_REJECTED: BROKER.CIVILITY_INVALID,
}
"""Upstream ``erreurs[0].code`` -> what the broker answers."""

_SEX_CODES = {"M": "1", "F": "2"}
_Invalid = ErrorCode(BROKER.PARAMS_INVALID)


def _text(value: Any) -> Any:
    """Codes are text: a number given as such is read as its digits; case and spaces go."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip().upper() if isinstance(value, str) else value


def _codes(value: Any) -> Any:
    """One code given alone stands for a list of one."""
    items = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
    return [_text(v) for v in items] if isinstance(items, list) else items


class SchoolingParams(Civility):
    """The pupil's identity, the school year, and where to search: one school
    (``codeEtablissement``) or an area (``degreEtablissement`` with ``codesBcnDepartements``
    or ``codesBcnRegions``), not both (``00419``).

    The sex is not required: staging answers a search without it (504 from the provider),
    although the OpenAPI file marks it as required.
    """

    required: ClassVar[frozenset[str]] = frozenset(
        {"nomNaissance", "prenoms", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance"}
    )
    requires_birthplace_in_france: ClassVar[bool] = False
    letters_only_names: ClassVar[bool] = True

    anneeScolaire: Annotated[
        str, _Invalid, BeforeValidator(_text), Field(pattern=r"^(\d{4}|\d{4}-\d{4})$")
    ]
    codeEtablissement: Annotated[
        str | None, _Invalid, BeforeValidator(_text), Field(pattern=r"^\d{7}[A-Z]$")
    ] = None
    degreEtablissement: Annotated[Literal["1D", "2D"] | None, _Invalid, BeforeValidator(_text)] = (
        None
    )
    codesBcnDepartements: Annotated[
        list[Annotated[str, Field(pattern=r"^(\d{3}|02[AB])$")]] | None,
        _Invalid,
        BeforeValidator(_codes),
    ] = None
    codesBcnRegions: Annotated[
        list[Annotated[str, Field(pattern=r"^\d{2}$")]] | None, _Invalid, BeforeValidator(_codes)
    ] = None

    @model_validator(mode="after")
    def _where(self) -> Self:
        area = bool(self.codesBcnDepartements) or bool(self.codesBcnRegions)
        if self.codeEtablissement is not None and area:
            raise ParamsProblem(BROKER.EXCLUSIVE_PARAMS, "codeEtablissement")
        if self.codeEtablissement is None and not area:
            raise ParamsProblem(BROKER.PARAMS_INVALID, "codeEtablissement")
        if area and self.codesBcnDepartements and self.codesBcnRegions:
            raise ParamsProblem(BROKER.PARAMS_INVALID, "codesBcnRegions")
        if area and self.degreEtablissement is None:
            raise ParamsProblem(BROKER.PARAMS_INVALID, "degreEtablissement")
        return self

    def area(self) -> tuple[str, list[str]] | None:
        """``(type, values)`` of the search area, when the search is not in one school."""
        if self.codesBcnDepartements:
            return "departement", list(self.codesBcnDepartements)
        if self.codesBcnRegions:
            return "region", list(self.codesBcnRegions)
        return None


APIS: dict[int, str] = {3: "v1", 4: "v2"}
"""Dataset version -> the register's API version serving it."""


def request_of(api: str, params: SchoolingParams) -> UpstreamRequest:
    """The upstream request for ``params`` on API version ``api``: the register takes one
    first name and the sex as ``1`` or ``2``."""
    pupil = {
        "nom": params.nomNaissance,
        "prenom": params.prenoms[0] if params.prenoms else None,
        "sexe": _SEX_CODES.get(params.sexeEtatCivil or ""),
        "date-naissance": params.birth_date_text(),
        "annee-scolaire": params.anneeScolaire,
    }
    area = params.area()
    if area is None:
        query = {**pupil, "code-uai": params.codeEtablissement}
        given = {k: v for k, v in query.items() if v is not None}
        return UpstreamRequest("GET", f"{api}/eleves", query=given)
    body = {
        **pupil,
        "degre-etablissement": params.degreEtablissement,
        "type-perimetre": area[0],
        "valeurs-perimetre": area[1],
    }
    sent = {k: v for k, v in body.items() if v is not None}
    return UpstreamRequest("POST", f"{api}/eleves/recherche-perimetre", body=sent)


ENVELOPE = Envelope(error="erreurs.0.code", strict=True)


REGISTER = VersionedUpstream(APIS, request_of, BY_ERROR, ENVELOPE)
"""The register: each dataset version asked through its own API version."""
