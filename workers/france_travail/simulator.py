"""The France Travail upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.simulation import SimulatorContext, canonical_key

from ._dialect import ERRORS, UNKNOWN_SEEKER, IdentifiantParams, Ressource, query_of
from .datasets import DATASETS, RESSOURCES

Answer = tuple[int, dict[str, Any]]

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"codeErreur": UNKNOWN_SEEKER, "libelle": "Demandeur inconnu"}),
    "timeout": (504, {"codeErreur": "DELAI_DEPASSE"}),
    "unavailable": (503, {"codeErreur": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"codeErreur": "QUOTA_ATTEINT"}),
    "unknown": (400, {"codeErreur": "REQUETE_REJETEE", "libelle": "Erreur technique"}),
}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    by_path = {r.path: r for r in RESSOURCES.values()}
    known: dict[str, Answer] = {}
    for case in ctx.cases_of("france_travail"):
        name = case.dataset_name("france_travail")
        if name not in RESSOURCES or case.version != DATASETS[name].version:
            continue
        ressource = RESSOURCES[name]
        try:
            params = IdentifiantParams.model_validate(case.params)
        except ValidationError:
            continue
        answer = (
            (200, ressource.encode(case.data))
            if case.status == 200
            else _FAILURES.get(case.failure(ERRORS), _FAILURES["unknown"])
        )
        known[canonical_key([ressource.path, query_of(params)])] = answer

    async def demandeur(request: web.Request) -> web.Response:
        ressource = by_path.get(request.match_info["ressource"])
        if ressource is None:
            return web.json_response({"codeErreur": "RESSOURCE_INCONNUE"}, status=404)
        login = request.query.get("loginUsager", "")
        if not login:
            return web.json_response({"codeErreur": "LOGIN_ABSENT"}, status=400)
        key = canonical_key([ressource.path, dict(request.query)])
        status, payload = known.get(key) or _from_population(ctx, ressource, login)
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_get("/v1/demandeurs/{ressource}", demandeur)
    return app


def _from_population(ctx: SimulatorContext, ressource: Ressource, login: str) -> Answer:
    person = ctx.population.by_identifiant(login)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    rng = random.Random(person.seed("france_travail." + ressource.name))
    return 200, ressource.encode(ressource.synthesize(person, rng))
