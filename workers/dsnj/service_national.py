"""``dsnj.service_national``: whether a young person is up to date with the national service
(Journée Défense et Citoyenneté), API Particulier's ``/v3/dsnj/service_national/identite``."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from broker.datasets import Dataset
from broker.dialect import Renaming
from broker.errors import ProblemError
from broker.population import Person
from broker.upstream import UpstreamCall

from ._dialect import (
    ACCESS_DENIED,
    ERRORS,
    PARTNER_REFUSED,
    UNKNOWN_PERSON,
    DsnjCivility,
    request_body,
)

PATH = "api/v1/jeunes/situation"
ENVELOPE = "situationServiceNational"
RENAMING = Renaming({"statut_service_national": "statut", "commentaires": "commentaire"})


class ServiceNationalData(BaseModel):
    statut_service_national: Literal["en_regle", "pas_en_regle", "indetermine", "non_concerne"]
    commentaires: str | None = None


_BY_ERROR = {UNKNOWN_PERSON: ERRORS.not_found, PARTNER_REFUSED: ACCESS_DENIED}


async def fetch(call: UpstreamCall, params: DsnjCivility) -> dict[str, Any]:
    response = await call.request("POST", PATH, json_body=request_body(params))
    body = call.json(response)
    if not isinstance(body, dict):
        raise call.invalid()
    if response.status_code == 200:
        return decode(call, body.get(ENVELOPE))
    erreur = body.get("erreur")
    spec = _BY_ERROR.get(str(erreur.get("code"))) if isinstance(erreur, dict) else None
    if spec is None:
        raise call.invalid()
    raise ProblemError(spec)


def decode(call: UpstreamCall, record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise call.invalid()
    try:
        data: dict[str, Any] = RENAMING.decode(record)
        ServiceNationalData.model_validate(data)
    except (TypeError, ValidationError):
        raise call.invalid() from None
    return data


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """API shape -> the upstream's 200 body (used by the simulator)."""
    return {ENVELOPE: RENAMING.encode(data)}


def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    """A synthetic status, plausible for the person's age and sex."""
    if person.date_naissance.year < (1979 if person.sexe == "M" else 1983):
        return {
            "statut_service_national": "non_concerne",
            "commentaires": "Personne non concernée par les obligations de service national",
        }
    draw = rng.random()
    if draw < 0.75:
        done = person.date_naissance + timedelta(days=365 * 17 + rng.randrange(300))
        return {
            "statut_service_national": "en_regle",
            "commentaires": f"Journée Défense et Citoyenneté effectuée le {done:%d/%m/%Y}",
        }
    if draw < 0.9:
        return {
            "statut_service_national": "pas_en_regle",
            "commentaires": "Journée Défense et Citoyenneté non effectuée",
        }
    return {"statut_service_national": "indetermine", "commentaires": None}


DATASET = Dataset(
    id="dsnj.service_national",
    version=3,
    route="/v3/dsnj/service_national/identite",
    title="Statut service national",
    params=DsnjCivility,
    data=ServiceNationalData,
    scopes={"dsnj_statut_service_national": ("statut_service_national", "commentaires")},
    fetch=fetch,
    example_params={
        "nomNaissance": "MARTIN",
        "prenoms": ["JEAN", "MICHEL"],
        "anneeDateNaissance": 2006,
        "moisDateNaissance": 1,
        "jourDateNaissance": 15,
        "sexeEtatCivil": "M",
        "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "75056",
    },
)
