"""The MESRI upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from aiohttp import web

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Answer, SimulatorContext, case_answers, respond

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


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("mesri", DATASET.name, {DATASET.version}),
        StatutEtudiantParams,
        key=lambda _, params: query_key(query_of(params)),
        success=lambda case: REGISTER.renaming.encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
    )

    async def statut(request: web.Request) -> web.Response:
        query = dict(request.query)
        found = known.get(query_key(query))
        if found is None:
            found = _from_population(ctx, query)
        return respond(found)

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
