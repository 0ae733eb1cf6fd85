"""The MEN upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Answer, SimulatorContext, case_answers, respond

from ._dialect import ERRORS, IDENTITY_REJECTED, UNKNOWN_PUPIL, Request, request_of
from .scolarites import DATASETS, EDITIONS, ScolaritesParams, synthesize


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"erreurs": [{"code": code, "message": message}]}


_FAILURES: dict[str, Answer] = {
    "not_found": _error(404, UNKNOWN_PUPIL, "Aucun élève ne correspond"),
    "timeout": _error(504, "DELAI_EXPIRE", "Délai de traitement dépassé"),
    "unavailable": _error(503, "SERVICE_INDISPONIBLE", "Maintenance en cours"),
    "rate_limited": _error(429, "LIMITE_ATTEINTE", "Trop de requêtes"),
    "unknown": _error(409, "SCOLARITES_MULTIPLES", "Plusieurs scolarités incompatibles"),
    "code:00366": _error(400, IDENTITY_REJECTED, "Identité inexploitable"),
}
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""

_VERSIONS = {d.version for d in DATASETS}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("men", "scolarites", _VERSIONS),
        ScolaritesParams,
        key=lambda case, params: request_of(EDITIONS[case.version].api, params).key(),
        success=lambda case: EDITIONS[case.version].renaming.encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
    )
    apis = {edition.api for edition in EDITIONS.values()}

    async def in_school(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in apis:
            return respond(_error(404, "VERSION_INCONNUE", api))
        query = dict(request.query)
        found = known.get(Request("GET", f"{api}/eleves", query).key())
        return respond(found or _from_population(ctx, query, query.get("code-uai"), None))

    async def in_area(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in apis:
            return respond(_error(404, "VERSION_INCONNUE", api))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return respond(_error(400, IDENTITY_REJECTED, "Corps illisible"))
        found = known.get(Request("POST", f"{api}/eleves/recherche-perimetre", body=body).key())
        degre = body.get("degre-etablissement")
        return respond(found or _from_population(ctx, body, None, str(degre) if degre else None))

    app = web.Application()
    app.router.add_get("/{api}/eleves", in_school)
    app.router.add_post("/{api}/eleves/recherche-perimetre", in_area)
    return app


def _from_population(
    ctx: SimulatorContext, search: dict[str, Any], uai: str | None, degre: str | None
) -> Answer:
    year = str(search.get("annee-scolaire") or "")
    if not isinstance(search.get("nom"), str) or not year[:4].isdigit():
        return _error(400, IDENTITY_REJECTED, "Nom ou année scolaire manquant")
    person = ctx.population.by_name(search["nom"])
    if person is None or not person.found or not _matches(person, search):
        return _FAILURES["not_found"]
    data = synthesize(person, year, uai, degre)
    return 200, EDITIONS[3].renaming.encode(data)


def _matches(person: Person, search: dict[str, Any]) -> bool:
    """Whether the searched pupil is ``person`` (fields not given match)."""
    sex = {"1": "M", "2": "F"}.get(str(search.get("sexe")))
    if sex not in (None, person.sexe):
        return False
    if search.get("date-naissance") not in (None, person.date_naissance.isoformat()):
        return False
    first = search.get("prenom")
    return first is None or normalise_name(str(first)) in person.prenoms
