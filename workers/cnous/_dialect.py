"""The CNOUS upstream dialect.

The scholarship register answers under one API version per shape: ``v1`` (API Particulier v3,
``est_boursier`` only) and ``v2`` (API Particulier v4, with the withdrawal status):

- ``GET /<api>/etudiants/<ine>``: a student by INE;
- ``POST /<api>/etudiants/recherche`` with ``{"nomFamille", "prenoms": "A, B", "dateNaissance",
  "lieuNaissance", "civilite"}``: a student by identity.

A found student is answered 200 with the record; failures carry ``{"erreur": <code>, "message"}``
with a 4xx status. The worker and the simulator both build requests with :func:`request_of`, so
that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from broker.civility import IneOrCivility
from broker.dialect import Renaming, Shape
from broker.errors import BROKER, ErrorSpec, ProblemError, ProviderErrors
from broker.simulation import canonical_key
from broker.upstream import UpstreamCall

_BASE = ProviderErrors(label="CNOUS", number=26)
ERRORS = ProviderErrors(
    label="CNOUS",
    number=26,
    overrides={
        "not_found": replace(
            _BASE.not_found,
            detail=(
                "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis."
            ),
        )
    },
)

NOT_FOUND = "ETUDIANT_NON_TROUVE"
IDENTITY_REJECTED = "IDENTITE_INVALIDE"
INE_REJECTED = "INE_INVALIDE"

BY_ERROR: dict[str, ErrorSpec] = {
    NOT_FOUND: ERRORS.not_found,
    IDENTITY_REJECTED: BROKER.CIVILITY_INVALID,
    INE_REJECTED: BROKER.INE_INVALID,
}
"""Upstream ``erreur`` -> what the broker answers."""


class StudentParams(IneOrCivility):
    """Either pivot: the INE alone (``/ine`` route), or the identity (``/identite`` route).

    Without an INE, only ``nomNaissance`` is required: staging answers identities with the birth
    name alone (404), although the OpenAPI file marks first names and birth date as required.
    """

    identity_required: ClassVar[tuple[str, ...]] = ("nomNaissance",)
    letters_only_names: ClassVar[bool] = True


@dataclass(frozen=True)
class Request:
    """One upstream request, as sent and as the simulator reads it back."""

    method: str
    path: str
    body: dict[str, Any] | None = None

    def key(self) -> str:
        return canonical_key([self.method, self.path, self.body])


def request_of(api: str, params: StudentParams) -> Request:
    """The upstream request for ``params`` on API version ``api`` (``v1`` or ``v2``)."""
    if params.ine is not None:
        return Request("GET", f"{api}/etudiants/{params.ine}")
    body = {
        "nomFamille": params.nomNaissance,
        "prenoms": ", ".join(params.prenoms) if params.prenoms else None,
        "dateNaissance": params.birth_date_text(),
        "lieuNaissance": params.codeCogInseeCommuneNaissance,
        "civilite": params.sexeEtatCivil,
    }
    sent = {k: v for k, v in body.items() if v is not None}
    return Request("POST", f"{api}/etudiants/recherche", sent)


@dataclass(frozen=True)
class Edition:
    """One shape of the answer: the upstream API version serving it and its renaming."""

    api: str
    shape: Shape
    data: type[BaseModel]
    renaming: Renaming = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "renaming", Renaming(self.shape))

    def fetcher(self) -> Callable[[UpstreamCall, StudentParams], Any]:
        async def fetch(call: UpstreamCall, params: StudentParams) -> dict[str, Any]:
            sent = request_of(self.api, params)
            response = await call.request(sent.method, sent.path, json_body=sent.body)
            body = call.json(response)
            if not isinstance(body, dict):
                raise call.invalid()
            if response.status_code == 200 and "erreur" not in body:
                return self.decode(call, body)
            spec = BY_ERROR.get(str(body.get("erreur")))
            if spec is None or response.status_code == 200:
                raise call.invalid()
            raise ProblemError(spec)

        return fetch

    def decode(self, call: UpstreamCall, record: dict[str, Any]) -> dict[str, Any]:
        try:
            data = self.renaming.decode(record)
            self.data.model_validate(data)
        except (TypeError, ValidationError):
            raise call.invalid() from None
        if not isinstance(data, dict):
            raise call.invalid()
        return data
