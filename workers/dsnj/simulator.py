"""The DSNJ upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import ERRORS, PATH
from .service_national import DATASET, ENDPOINT

_FAILURES = ENDPOINT.failures(ERRORS)


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASET, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"])

    async def situation(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            jeune = body["jeune"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"erreur": {"code": "REQUETE_INVALIDE"}}, status=400)
        key = UpstreamRequest("POST", PATH, body=body).key()
        return respond(known.get(key) or _from_population(ctx, jeune))

    app = web.Application()
    app.router.add_post(f"/{PATH}", situation)
    return app


def _from_population(ctx: SimulatorContext, jeune: Any) -> Answer:
    if not isinstance(jeune, dict):
        return 400, {"erreur": {"code": "REQUETE_INVALIDE"}}
    person = ctx.population.by_name(str(jeune.get("nomNaissance") or ""))
    if (
        person is None
        or not person.found
        or jeune.get("sexe") != person.sexe
        or jeune.get("dateNaissance") != person.date_naissance.isoformat()
    ):
        return _FAILURES["not_found"]
    return ENDPOINT.success(synthesize(person, random.Random(person.seed(DATASET.id))))


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
