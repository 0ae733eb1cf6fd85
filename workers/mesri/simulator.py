"""The MESRI upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Case, SimulatorContext

from ._dialect import (
    ERRORS,
    IDENTITY_REJECTED,
    INE_REJECTED,
    PATH,
    UNKNOWN_STUDENT,
    query_key,
    query_of,
)
from .statut_etudiant import DATASET, REGISTER, StatutEtudiantParams, synthesize

Answer = tuple[int, dict[str, Any]]


def _anomaly(status: int, code: str, libelle: str) -> Answer:
    return status, {"anomalie": {"code": code, "libelle": libelle}}


_FAILURES: dict[str, Answer] = {
    "not_found": _anomaly(404, UNKNOWN_STUDENT, "Aucune inscription connue"),
    "timeout": _anomaly(504, "PASSERELLE", "Délai dépassé"),
    "unavailable": _anomaly(503, "INDISPONIBLE", "Service en maintenance"),
    "rate_limited": _anomaly(429, "QUOTA", "Trop de requêtes"),
    "unknown": _anomaly(422, "DONNEES_INCOHERENTES", "Inscriptions incohérentes"),
    "code:00366": _anomaly(400, IDENTITY_REJECTED, "Identité inexploitable"),
    "code:00360": _anomaly(400, INE_REJECTED, "INE inexploitable"),
}
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""


def _case_data(case: Case) -> Any:
    """A 200 case's data; some older case files hold the data without its envelope."""
    if "data" in case.payload:
        return case.data
    return {k: v for k, v in case.payload.items() if k not in ("links", "meta")}


def _case_answers(ctx: SimulatorContext) -> dict[str, Answer]:
    known: dict[str, Answer] = {}
    for case in ctx.cases_of("mesri"):
        if case.dataset_name("mesri") != DATASET.name or case.version != DATASET.version:
            continue
        try:
            params = StatutEtudiantParams.model_validate(case.params)
        except ValidationError:
            continue
        if case.status == 200:
            answer: Answer | None = (200, REGISTER.renaming.encode(_case_data(case)))
        else:
            answer = _FAILURES.get(case.failure(ERRORS))
        if answer is not None:
            known[query_key(query_of(params))] = answer
    return known


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = _case_answers(ctx)

    async def statut(request: web.Request) -> web.Response:
        query = dict(request.query)
        found = known.get(query_key(query))
        if found is None:
            found = _from_population(ctx, query)
        status, payload = found
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_get(f"/{PATH}", statut)
    return app


def _from_population(ctx: SimulatorContext, query: dict[str, str]) -> Answer:
    if "ine" in query:
        person = ctx.population.by_ine(query["ine"])
    elif "nom" in query:
        person = ctx.population.by_name(query["nom"])
        if person is not None and not _matches(person, query):
            person = None
    else:
        return _anomaly(400, IDENTITY_REJECTED, "Ni INE ni identité")
    if person is None or not person.found:
        return _FAILURES["not_found"]
    return 200, REGISTER.renaming.encode(synthesize(person))


def _matches(person: Person, query: dict[str, str]) -> bool:
    """Whether the searched identity designates ``person`` (fields not given match)."""
    sex = {"1": "M", "2": "F"}.get(query.get("sexe", ""))
    if sex not in (None, person.sexe):
        return False
    if not person.date_naissance.isoformat().startswith(query.get("dateNaissance", "")):
        return False
    if query.get("communeNaissance") not in (None, person.code_commune_naissance):
        return False
    first = query.get("prenom")
    return first is None or normalise_name(first) in person.prenoms
