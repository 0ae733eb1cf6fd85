"""``gip_mds.service_civique``: current and past civic-service contracts of a person, API
Particulier's ``/v3/gip_mds/service_civique/identite``."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from broker.datasets import Dataset
from broker.errors import BROKER, ProblemError
from broker.population import Person
from broker.upstream import UpstreamCall

from ._dialect import AMBIGUOUS_DETAIL, ERRORS, RENAMING, GipMdsCivility, request_body

PATH = "rest/v2/volontaires/recherche"

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""


class OrganismeAccueil(BaseModel):
    siret: str | None = None
    raison_sociale: str | None = None


class Statut(BaseModel):
    contrat_trouve: bool | None = None
    organisme_accueil: OrganismeAccueil | None = None
    date_debut_contrat: str | None = None
    date_fin_contrat: str | None = None


class ServiceCiviqueData(BaseModel):
    statut_actuel: Statut | None = None
    statut_passe: Statut | None = None


async def fetch(call: UpstreamCall, params: GipMdsCivility) -> dict[str, Any]:
    response = await call.request("POST", PATH, json_body=request_body(params))
    body = call.json(response)
    individus = body.get("individus") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(individus, list):
        raise call.invalid()
    if not individus:
        raise ProblemError(ERRORS.not_found)
    if len(individus) > 1:
        raise ProblemError(BROKER.AMBIGUOUS_IDENTITY, detail=AMBIGUOUS_DETAIL)
    return decode(call, individus[0])


def decode(call: UpstreamCall, individu: Any) -> dict[str, Any]:
    if not isinstance(individu, dict):
        raise call.invalid()
    try:
        data: dict[str, Any] = RENAMING.decode(individu)
        ServiceCiviqueData.model_validate(data)
    except (TypeError, ValidationError):
        raise call.invalid() from None
    return data


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """API shape -> one ``individus`` entry of the upstream's answer."""
    encoded: dict[str, Any] = RENAMING.encode(data)
    return encoded


NO_CONTRACT: dict[str, Any] = {
    "contrat_trouve": False,
    "organisme_accueil": {"siret": None, "raison_sociale": None},
    "date_debut_contrat": None,
    "date_fin_contrat": None,
}
_HOSTS = (
    ("13002526500013", "DIRECTION INTERMINISTERIELLE DU NUMERIQUE"),
    ("77567227221138", "CROIX ROUGE FRANCAISE"),
    ("42229566900026", "UNIS CITE"),
    ("18009202500059", "MINISTERE DE L EDUCATION NATIONALE"),
)


def _contract(rng: random.Random, start: date) -> dict[str, Any]:
    siret, name = rng.choice(_HOSTS)
    return {
        "contrat_trouve": True,
        "organisme_accueil": {"siret": siret, "raison_sociale": name},
        "date_debut_contrat": start.isoformat(),
        "date_fin_contrat": (start + timedelta(days=30 * rng.randrange(6, 13))).isoformat(),
    }


def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    """Most people never served; some serve now, some did before (at 16 to 25)."""
    draw = rng.random()
    current = past = NO_CONTRACT
    if draw < 0.15:
        current = _contract(rng, AS_OF - timedelta(days=rng.randrange(1, 150)))
    if 0.1 < draw < 0.3:
        past = _contract(rng, person.date_naissance + timedelta(days=365 * rng.randrange(16, 24)))
    return {"statut_actuel": dict(current), "statut_passe": dict(past)}


DATASET = Dataset(
    id="gip_mds.service_civique",
    version=3,
    route="/v3/gip_mds/service_civique/identite",
    title="Service civique",
    params=GipMdsCivility,
    data=ServiceCiviqueData,
    scopes={
        "gip_mds_service_civique_statut_actuel": ("statut_actuel.contrat_trouve",),
        "gip_mds_service_civique_statut_passe": ("statut_passe.contrat_trouve",),
        "gip_mds_service_civique_organisme_accueil": (
            "statut_actuel.organisme_accueil",
            "statut_passe.organisme_accueil",
        ),
        "gip_mds_service_civique_dates": (
            "statut_actuel.date_debut_contrat",
            "statut_actuel.date_fin_contrat",
            "statut_passe.date_debut_contrat",
            "statut_passe.date_fin_contrat",
        ),
    },
    fetch=fetch,
    example_params={
        "nomNaissance": "DUPONT",
        "prenoms": ["MARIE", "LOUISE"],
        "anneeDateNaissance": 1998,
        "moisDateNaissance": 3,
        "jourDateNaissance": 15,
    },
)
