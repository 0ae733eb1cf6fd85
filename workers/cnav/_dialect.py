"""The CNAV upstream dialect, shared by every CNAV dataset.

``POST /v2/prestations/<prestation>/recherche`` with ``{"individu": {...}, "periode": {...}}``;
answers ``{"codeRetour": "00", "resultat": {...}}`` or an error body with another
``codeRetour``. The simulator and the worker both build requests with :func:`request_body`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from broker.civility import Civility
from broker.datasets import Dataset
from broker.dialect import Renaming, Shape
from broker.errors import BROKER, ErrorSpec, ProblemError, ProviderErrors
from broker.population import Person
from broker.upstream import UpstreamCall

ERRORS = ProviderErrors(label="CNAV", number=37)

OK = "00"
NOT_FOUND = "DOSSIER_ABSENT"
UNIDENTIFIABLE = "IDENTITE_NON_TRAITABLE"
TECHNICAL = "ERREUR_TECHNIQUE"

_BY_RETURN_CODE: dict[str, ErrorSpec] = {
    NOT_FOUND: ERRORS.not_found,
    UNIDENTIFIABLE: BROKER.CIVILITY_INVALID,
}


class CnavCivility(Civility):
    """CNAV finds a beneficiary with few fields: first names and birth date are optional."""


def request_body(params: Civility) -> dict[str, Any]:
    """The upstream request for ``params`` (the simulator keys its cases on it too)."""
    body: dict[str, Any] = {
        "individu": {
            "nomNaissance": params.nomNaissance,
            "nomUsage": params.nomUsage,
            "prenoms": " ".join(params.prenoms) if params.prenoms else None,
            "sexe": params.sexeEtatCivil,
            "dateNaissance": params.birth_date_text(),
            "lieuNaissance": {
                "commune": params.codeCogInseeCommuneNaissance,
                "pays": params.codeCogInseePaysNaissance,
            },
        }
    }
    periode = {k: getattr(params, k) for k in ("annee", "mois") if getattr(params, k, None)}
    if periode:
        body["periode"] = periode
    return body


Synthesize = Callable[[Person, Any], dict[str, Any]]


@dataclass(frozen=True)
class Prestation:
    """One CNAV dataset: where it lives upstream and how its answer is renamed."""

    name: str
    """Dataset name in the broker (``quotient_familial``)."""
    path: str
    """Upstream prestation segment (``qf``)."""
    shape: Shape
    data: type[BaseModel]
    synthesize: Synthesize
    """Builds the API-shaped data of a synthetic person (``rng`` is seeded by person)."""
    not_found_detail: str | None = None
    """The ``detail`` API Particulier gives when this prestation has no file for the person."""
    renaming: Renaming = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "renaming", Renaming(self.shape))

    def url(self) -> str:
        return f"v2/prestations/{self.path}/recherche"

    def fetcher(self) -> Callable[[UpstreamCall, Civility], Any]:
        async def fetch(call: UpstreamCall, params: Civility) -> dict[str, Any]:
            response = await call.request("POST", self.url(), json_body=request_body(params))
            body = call.json(response)
            code = body.get("codeRetour") if isinstance(body, dict) else None
            if response.status_code == 200 and code == OK:
                return self.decode(call, body.get("resultat"))
            spec = _BY_RETURN_CODE.get(str(code))
            if spec is ERRORS.not_found:
                raise ProblemError(spec, detail=self.not_found_detail)
            if spec is not None:
                raise ProblemError(spec)
            raise call.invalid()

        return fetch

    def decode(self, call: UpstreamCall, resultat: Any) -> dict[str, Any]:
        try:
            data = self.renaming.decode(resultat)
            self.data.model_validate(data)
        except (TypeError, ValidationError):
            raise call.invalid() from None
        if not isinstance(data, dict):
            raise call.invalid()
        return data


def dataset_of(prestations: dict[str, Prestation], dataset: Dataset) -> Prestation:
    return prestations[dataset.name]
