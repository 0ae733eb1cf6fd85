"""The France Travail upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random

from aiohttp import web

from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import ERRORS, UNKNOWN_SEEKER, IdentifiantParams, Ressource, query_of
from .datasets import DATASETS, RESSOURCES

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"codeErreur": UNKNOWN_SEEKER, "libelle": "Demandeur inconnu"}),
    "timeout": (504, {"codeErreur": "DELAI_DEPASSE"}),
    "unavailable": (503, {"codeErreur": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"codeErreur": "QUOTA_ATTEINT"}),
    "unknown": (400, {"codeErreur": "REQUETE_REJETEE", "libelle": "Erreur technique"}),
}


def _case_answers(ctx: SimulatorContext, name: str) -> dict[str, Answer]:
    """The answers standing for the cases of dataset ``name``, by path and query."""
    ressource = RESSOURCES[name]
    return case_answers(
        ctx.cases_for("france_travail", name, {DATASETS[name].version}),
        IdentifiantParams,
        key=lambda _, params: canonical_key([ressource.path, query_of(params)]),
        success=lambda case: ressource.encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )


def build_simulator(ctx: SimulatorContext) -> web.Application:
    by_path = {r.path: r for r in RESSOURCES.values()}
    known: dict[str, Answer] = {}
    for name in RESSOURCES:
        known.update(_case_answers(ctx, name))

    async def demandeur(request: web.Request) -> web.Response:
        ressource = by_path.get(request.match_info["ressource"])
        if ressource is None:
            return web.json_response({"codeErreur": "RESSOURCE_INCONNUE"}, status=404)
        login = request.query.get("loginUsager", "")
        if not login:
            return web.json_response({"codeErreur": "LOGIN_ABSENT"}, status=400)
        key = canonical_key([ressource.path, dict(request.query)])
        return respond(known.get(key) or _from_population(ctx, ressource, login))

    app = web.Application()
    app.router.add_get("/v1/demandeurs/{ressource}", demandeur)
    return app


def _from_population(ctx: SimulatorContext, ressource: Ressource, login: str) -> Answer:
    person = ctx.population.by_identifiant(login)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    rng = random.Random(person.seed("france_travail." + ressource.name))
    return 200, ressource.encode(ressource.synthesize(person, rng))
