"""The SDH upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random

from aiohttp import web

from broker.errors import BROKER
from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import ERRORS, REJECTED_IDENTIFIER, UNKNOWN_ATHLETE, SdhParams, path_of
from .statut_sportif import DATASET, encode, person_of, synthesize

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
    known = case_answers(
        ctx.cases_for("sdh", DATASET.name, {DATASET.version}),
        SdhParams,
        key=lambda _, params: canonical_key(path_of(params.identifiant)),
        success=lambda case: encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )

    async def sportif(request: web.Request) -> web.Response:
        identifiant = request.match_info["identifiant"]
        found = known.get(canonical_key(path_of(identifiant)))
        return respond(found or _from_population(ctx, identifiant))

    app = web.Application()
    app.router.add_get("/v2/sportifs/{identifiant}", sportif)
    return app


def _from_population(ctx: SimulatorContext, identifiant: str) -> Answer:
    person = person_of(ctx.population, identifiant)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    return 200, encode(synthesize(person, random.Random(person.seed("sdh.statut_sportif"))))
