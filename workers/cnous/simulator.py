"""The CNOUS upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest, normalise_name
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import APIS, ERRORS, IDENTITY_REJECTED
from .etudiant_boursier import DATASETS, Echelon

ENDPOINTS = {d.version: d.endpoint for d in DATASETS}
"""Dataset version -> the register's endpoint serving it."""
_FAILURES = ENDPOINTS[3].failures(ERRORS)
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASETS, _FAILURES, ERRORS)
    versions = {api: version for version, api in APIS.items()}

    async def by_ine(request: web.Request) -> web.Response:
        api, ine = request.match_info["api"], request.match_info["ine"]
        if api not in versions:
            return respond((404, {"erreur": "VERSION_INCONNUE"}))
        found = known.get(UpstreamRequest("GET", f"{api}/etudiants/{ine}").key())
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
        found = known.get(UpstreamRequest("POST", f"{api}/etudiants/recherche", body=body).key())
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
    return ENDPOINTS[version].success(synthesize(person, version))


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


_COMMUNES = {
    "75056": "Paris",
    "13055": "Marseille",
    "69123": "Lyon",
    "31555": "Toulouse",
    "06088": "Nice",
    "44109": "Nantes",
    "67482": "Strasbourg",
    "33063": "Bordeaux",
    "59350": "Lille",
}
_CAMPUSES = (
    ("Paris", "Sorbonne Université"),
    ("Lyon", "Université Claude Bernard Lyon 1"),
    ("Toulouse", "Université Toulouse Capitole"),
    ("Bordeaux", "Université de Bordeaux"),
    ("Rennes", "Université de Rennes"),
    ("Lille", "Université de Lille"),
)
_ECHELONS: tuple[Echelon, ...] = ("0bis", "1", "2", "3", "4", "5", "6", "7")


def _academic_year(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def synthesize(person: Person, version: int) -> dict[str, Any]:
    """The API-shaped answer for a synthetic student, stable per person."""
    rng = random.Random(person.seed("cnous.etudiant_boursier"))
    year = _academic_year(date.today())
    commune, etablissement = _CAMPUSES[rng.randrange(len(_CAMPUSES))]
    withdrawn = rng.random() < 0.05
    record: dict[str, Any] = {
        "periode_versement_bourse": {
            "date_rentree": f"{year}-09-01",
            "duree": rng.choice((10, 12)),
        },
        "etablissement_etudes": {"nom_commune": commune, "nom_etablissement": etablissement},
        "echelon_bourse": {
            "echelon": rng.choice(_ECHELONS),
            "echelon_bourse_regionale_provisoire": rng.random() < 0.1,
        },
        "email": f"{person.prenoms[0]}.{person.nom_naissance}@etudiant.example.fr".lower(),
        "identite": {
            "nom": person.nom_naissance,
            "prenoms": list(person.prenoms),
            "date_naissance": person.date_naissance.isoformat(),
            "nom_commune_naissance": _COMMUNES.get(
                person.code_commune_naissance, person.code_commune_naissance
            ),
            "sexe": person.sexe,
        },
    }
    if version >= 4:
        return {
            "statut_boursier": {
                "est_boursier": not withdrawn,
                "est_radie": withdrawn,
                "date_radiation": f"{year}-12-01" if withdrawn else None,
            },
            **record,
        }
    return {"est_boursier": True, **record}
