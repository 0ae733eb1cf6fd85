"""The MEN upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Case, SimulatorContext

from ._dialect import ERRORS, IDENTITY_REJECTED, UNKNOWN_PUPIL, Request, request_of
from .scolarites import DATASETS, EDITIONS, ScolaritesParams, synthesize

Answer = tuple[int, dict[str, Any]]


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


def _case_data(case: Case) -> Any:
    """A 200 case's data; some older case files hold the data without its envelope."""
    if "data" in case.payload:
        return case.data
    return {k: v for k, v in case.payload.items() if k not in ("links", "meta")}


def _case_answers(ctx: SimulatorContext) -> dict[str, Answer]:
    known: dict[str, Answer] = {}
    for case in ctx.cases_of("men"):
        if case.dataset_name("men") != "scolarites" or case.version not in _VERSIONS:
            continue
        try:
            params = ScolaritesParams.model_validate(case.params)
        except ValidationError:
            continue
        edition = EDITIONS[case.version]
        if case.status == 200:
            answer: Answer | None = (200, edition.renaming.encode(_case_data(case)))
        else:
            answer = _FAILURES.get(case.failure(ERRORS))
        if answer is not None:
            known[request_of(edition.api, params).key()] = answer
    return known


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = _case_answers(ctx)
    apis = {edition.api for edition in EDITIONS.values()}

    def reply(answer: Answer) -> web.Response:
        status, payload = answer
        return web.json_response(payload, status=status)

    async def in_school(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in apis:
            return reply(_error(404, "VERSION_INCONNUE", api))
        query = dict(request.query)
        found = known.get(Request("GET", f"{api}/eleves", query).key())
        return reply(found or _from_population(ctx, query, query.get("code-uai"), None))

    async def in_area(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in apis:
            return reply(_error(404, "VERSION_INCONNUE", api))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return reply(_error(400, IDENTITY_REJECTED, "Corps illisible"))
        found = known.get(Request("POST", f"{api}/eleves/recherche-perimetre", body=body).key())
        degre = body.get("degre-etablissement")
        return reply(found or _from_population(ctx, body, None, str(degre) if degre else None))

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
