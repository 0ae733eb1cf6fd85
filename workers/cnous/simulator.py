"""The CNOUS upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.civility import normalise_name
from broker.population import Person
from broker.simulation import Case, SimulatorContext

from ._dialect import ERRORS, IDENTITY_REJECTED, INE_REJECTED, NOT_FOUND, Request, request_of
from .etudiant_boursier import DATASETS, EDITIONS, EtudiantBoursierParams, synthesize

Answer = tuple[int, dict[str, Any]]

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


def _case_data(case: Case) -> Any:
    """A 200 case's data; some older case files hold the data without its envelope."""
    if "data" in case.payload:
        return case.data
    return {k: v for k, v in case.payload.items() if k not in ("links", "meta")}


def _case_answers(ctx: SimulatorContext) -> dict[str, Answer]:
    known: dict[str, Answer] = {}
    for case in ctx.cases_of("cnous"):
        if case.dataset_name("cnous") != "etudiant_boursier" or case.version not in _VERSIONS:
            continue
        try:
            params = EtudiantBoursierParams.model_validate(case.params)
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
    versions = {edition.api: version for version, edition in EDITIONS.items()}

    def reply(answer: Answer) -> web.Response:
        status, payload = answer
        return web.json_response(payload, status=status)

    async def by_ine(request: web.Request) -> web.Response:
        api, ine = request.match_info["api"], request.match_info["ine"]
        if api not in versions:
            return reply((404, {"erreur": "VERSION_INCONNUE"}))
        found = known.get(Request("GET", f"{api}/etudiants/{ine}").key())
        if found is None:
            person = ctx.population.by_ine(ine)
            found = _synthetic(person, versions[api]) if person is not None else None
        return reply(found or _FAILURES["not_found"])

    async def by_identity(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in versions:
            return reply((404, {"erreur": "VERSION_INCONNUE"}))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("nomFamille"), str):
            return reply((400, {"erreur": IDENTITY_REJECTED, "message": "nomFamille manquant"}))
        found = known.get(Request("POST", f"{api}/etudiants/recherche", body).key())
        if found is None:
            person = ctx.population.by_name(body["nomFamille"])
            if person is not None and _matches(person, body):
                found = _synthetic(person, versions[api])
        return reply(found or _FAILURES["not_found"])

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
