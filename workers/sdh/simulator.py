"""The SDH upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.errors import BROKER
from broker.simulation import SimulatorContext, canonical_key

from ._dialect import ERRORS, REJECTED_IDENTIFIER, UNKNOWN_ATHLETE, SdhParams, path_of
from .statut_sportif import DATASET, encode, person_of, synthesize

Answer = tuple[int, dict[str, Any]]

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"code": UNKNOWN_ATHLETE, "message": "Aucun sportif"}),
    "timeout": (504, {"code": "DELAI_DEPASSE"}),
    "unavailable": (503, {"code": "INDISPONIBLE"}),
    "rate_limited": (429, {"code": "QUOTA"}),
    "unknown": (409, {"code": "ETAT_INCOHERENT", "message": "Fiche en cours de fusion"}),
    f"code:{BROKER.PARAMS_INVALID.code}": (
        400,
        {"code": REJECTED_IDENTIFIER, "message": "Identifiant mal formé"},
    ),
}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known: dict[str, Answer] = {}
    for case in ctx.cases_of("sdh"):
        if case.dataset_name("sdh") != DATASET.name or case.version != DATASET.version:
            continue
        try:
            params = SdhParams.model_validate(case.params)
        except ValidationError:
            continue
        answer = (
            (200, encode(case.data))
            if case.status == 200
            else _FAILURES.get(case.failure(ERRORS), _FAILURES["unknown"])
        )
        known[canonical_key(path_of(params.identifiant))] = answer

    async def sportif(request: web.Request) -> web.Response:
        identifiant = request.match_info["identifiant"]
        found = known.get(canonical_key(path_of(identifiant)))
        status, payload = found or _from_population(ctx, identifiant)
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_get("/v2/sportifs/{identifiant}", sportif)
    return app


def _from_population(ctx: SimulatorContext, identifiant: str) -> Answer:
    person = person_of(ctx.population, identifiant)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    return 200, encode(synthesize(person, random.Random(person.seed("sdh.statut_sportif"))))
