"""The DSNJ upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import (
    ACCESS_DENIED,
    ERRORS,
    PARTNER_REFUSED,
    UNKNOWN_PERSON,
    DsnjCivility,
    request_body,
)
from .service_national import DATASET, PATH, encode, synthesize

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"erreur": {"code": UNKNOWN_PERSON, "message": "Jeune inconnu"}}),
    "timeout": (504, {"erreur": {"code": "DELAI_EXPIRE"}}),
    "unavailable": (503, {"erreur": {"code": "SERVICE_INDISPONIBLE"}}),
    "rate_limited": (429, {"erreur": {"code": "QUOTA_DEPASSE"}}),
    "unknown": (400, {"erreur": {"code": "ERREUR_INATTENDUE"}}),
    f"code:{ACCESS_DENIED.code}": (403, {"erreur": {"code": PARTNER_REFUSED}}),
}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("dsnj", DATASET.name, {DATASET.version}),
        DsnjCivility,
        key=lambda _, params: canonical_key(request_body(params)),
        success=lambda case: encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )

    async def situation(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            jeune = body["jeune"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"erreur": {"code": "REQUETE_INVALIDE"}}, status=400)
        return respond(known.get(canonical_key(body)) or _from_population(ctx, jeune))

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
    return 200, encode(synthesize(person, random.Random(person.seed("dsnj.service_national"))))
