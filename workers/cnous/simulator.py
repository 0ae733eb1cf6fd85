"""The CNOUS upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Answer, SimulatorContext, case_answers, respond

from ._dialect import ERRORS, IDENTITY_REJECTED, INE_REJECTED, NOT_FOUND, Request, request_of
from .etudiant_boursier import DATASETS, EDITIONS, EtudiantBoursierParams, synthesize

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"erreur": NOT_FOUND, "message": "Aucun dossier de bourse"}),
    "timeout": (504, {"erreur": "DELAI_DEPASSE"}),
    "unavailable": (503, {"erreur": "MAINTENANCE"}),
    "rate_limited": (429, {"erreur": "QUOTA_ATTEINT"}),
    "unknown": (409, {"erreur": "INCOHERENCE_DOSSIER", "message": "Dossier incohérent"}),
    "code:00366": (400, {"erreur": IDENTITY_REJECTED, "message": "Identité inexploitable"}),
    "code:00360": (400, {"erreur": INE_REJECTED, "message": "INE inexploitable"}),
}
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""

_VERSIONS = {d.version for d in DATASETS}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("cnous", "etudiant_boursier", _VERSIONS),
        EtudiantBoursierParams,
        key=lambda case, params: request_of(EDITIONS[case.version].api, params).key(),
        success=lambda case: EDITIONS[case.version].renaming.encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
    )
    versions = {edition.api: version for version, edition in EDITIONS.items()}

    async def by_ine(request: web.Request) -> web.Response:
        api, ine = request.match_info["api"], request.match_info["ine"]
        if api not in versions:
            return respond((404, {"erreur": "VERSION_INCONNUE"}))
        found = known.get(Request("GET", f"{api}/etudiants/{ine}").key())
        if found is None:
            person = ctx.population.by_ine(ine)
            found = _synthetic(person, versions[api]) if person is not None else None
        return respond(found or _FAILURES["not_found"])

    async def by_identity(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in versions:
            return respond((404, {"erreur": "VERSION_INCONNUE"}))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("nomFamille"), str):
            return respond((400, {"erreur": IDENTITY_REJECTED, "message": "nomFamille manquant"}))
        found = known.get(Request("POST", f"{api}/etudiants/recherche", body).key())
        if found is None:
            person = ctx.population.by_name(body["nomFamille"])
            if person is not None and _matches(person, body):
                found = _synthetic(person, versions[api])
        return respond(found or _FAILURES["not_found"])

    app = web.Application()
    app.router.add_post("/{api}/etudiants/recherche", by_identity)
    app.router.add_get("/{api}/etudiants/{ine}", by_ine)
    return app


def _synthetic(person: Person, version: int) -> Answer | None:
    if not person.found:
        return None
    return 200, EDITIONS[version].renaming.encode(synthesize(person, version))


def _matches(person: Person, body: dict[str, Any]) -> bool:
    """Whether the searched identity designates ``person`` (fields not given match)."""
    if body.get("civilite") not in (None, person.sexe):
        return False
    if not person.date_naissance.isoformat().startswith(str(body.get("dateNaissance") or "")):
        return False
    if body.get("lieuNaissance") not in (None, person.code_commune_naissance):
        return False
    given = {normalise_name(p) for p in str(body.get("prenoms") or "").split(",") if p.strip()}
    return given <= set(person.prenoms)
