"""The France Travail upstream dialect, shared by both France Travail datasets.

``GET /v1/demandeurs/<ressource>?loginUsager=<identifiant>`` where ``ressource`` is
``situation`` or ``versements``. A found job seeker is answered 200 with the resource; an
unknown one 404 with ``{"codeErreur": "DEMANDEUR_INCONNU"}``. The worker and the simulator both
build the query with :func:`query_of`, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from broker.datasets import ErrorCode, Params
from broker.dialect import Renaming, Shape
from broker.errors import BROKER, ProblemError, ProviderErrors
from broker.population import Person
from broker.upstream import UpstreamCall

_BASE = ProviderErrors(label="France Travail", number=24)
ERRORS = ProviderErrors(
    label="France Travail",
    number=24,
    overrides={
        "not_found": replace(
            _BASE.not_found,
            detail=(
                "Aucune situation France Travail n'a pu être trouvée avec les critères de "
                "recherche fournis."
            ),
        )
    },
)

UNKNOWN_SEEKER = "DEMANDEUR_INCONNU"

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""


def identifier_text(value: Any) -> Any:
    """Identifiers are text: a number given as such is read as its digits; spaces around go."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


class IdentifiantParams(Params):
    """The login the person chose for their France Travail online account."""

    identifiant: Annotated[
        str,
        ErrorCode(BROKER.IDENTIFIER_MISSING),
        BeforeValidator(identifier_text),
        Field(min_length=1, max_length=100),
    ]


def query_of(params: IdentifiantParams) -> dict[str, str]:
    """The upstream query string (the simulator keys its cases on it, with the resource)."""
    return {"loginUsager": params.identifiant}


Synthesize = Callable[[Person, random.Random], dict[str, Any]]


@dataclass(frozen=True)
class Ressource:
    """One France Travail dataset: its upstream resource and how its answer is renamed."""

    name: str
    """Dataset name in the broker (``statut``)."""
    path: str
    """Upstream resource segment (``situation``)."""
    envelope: str | None
    """Key of the upstream body holding the record, or ``None`` for the whole body."""
    shape: Shape
    data: type[BaseModel]
    synthesize: Synthesize
    """The API-shaped data of a synthetic job seeker (``rng`` is seeded by person)."""
    renaming: Renaming = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "renaming", Renaming(self.shape))

    def encode(self, data: dict[str, Any]) -> dict[str, Any]:
        """API shape -> the upstream's 200 body."""
        record = self.renaming.encode(data)
        return {self.envelope: record} if self.envelope else dict(record)

    def fetcher(self) -> Callable[[UpstreamCall, IdentifiantParams], Any]:
        async def fetch(call: UpstreamCall, params: IdentifiantParams) -> dict[str, Any]:
            response = await call.request(
                "GET", f"v1/demandeurs/{self.path}", params=query_of(params)
            )
            body = call.json(response)
            if response.status_code == 200 and isinstance(body, dict):
                return self.decode(call, body)
            if isinstance(body, dict) and body.get("codeErreur") == UNKNOWN_SEEKER:
                raise ProblemError(ERRORS.not_found)
            raise call.invalid()

        return fetch

    def decode(self, call: UpstreamCall, body: dict[str, Any]) -> dict[str, Any]:
        record = body.get(self.envelope) if self.envelope else body
        if not isinstance(record, dict):
            raise call.invalid()
        try:
            data = self.renaming.decode(record)
            self.data.model_validate(data)
        except (TypeError, ValidationError):
            raise call.invalid() from None
        if not isinstance(data, dict):
            raise call.invalid()
        return data
