"""The GIP-MDS upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from broker.errors import BROKER
from broker.kit import UpstreamRequest
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import ERRORS, PATH
from .service_civique import DATASET, ENDPOINT

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""

NO_CONTRACT: dict[str, Any] = {
    "contrat_trouve": False,
    "organisme_accueil": {"siret": None, "raison_sociale": None},
    "date_debut_contrat": None,
    "date_fin_contrat": None,
}
_HOMONYM = ENDPOINT.renaming.encode({"statut_actuel": NO_CONTRACT, "statut_passe": NO_CONTRACT})
_FAILURES = ENDPOINT.failures(
    ERRORS,
    not_found=(200, {"individus": []}),
    **{f"code:{BROKER.AMBIGUOUS_IDENTITY.code}": (200, {"individus": [_HOMONYM, _HOMONYM]})},
)


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASET, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"])

    async def recherche(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"anomalie": "REQUETE_INVALIDE"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"anomalie": "REQUETE_INVALIDE"}, status=400)
        key = UpstreamRequest("POST", PATH, body=body).key()
        return respond(known.get(key) or _from_population(ctx, body))

    app = web.Application()
    app.router.add_post(f"/{PATH}", recherche)
    return app


def _from_population(ctx: SimulatorContext, body: dict[str, Any]) -> Answer:
    person = ctx.population.by_name(str(body.get("nomFamille") or ""))
    if (
        person is None
        or not person.found
        or body.get("dateNaissance") != person.date_naissance.isoformat()
    ):
        return _FAILURES["not_found"]
    return ENDPOINT.success(synthesize(person, random.Random(person.seed(DATASET.id))))


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
