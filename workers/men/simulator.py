"""The MEN upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest, normalise_name
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import APIS, ERRORS, IDENTITY_REJECTED
from .scolarites import DATASETS


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"erreurs": [{"code": code, "message": message}]}


ENDPOINTS = {d.version: d.endpoint for d in DATASETS}
"""Dataset version -> the register's endpoint serving it."""
_FAILURES = ENDPOINTS[3].failures(ERRORS)
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASETS, _FAILURES, ERRORS)
    apis = set(APIS.values())

    async def in_school(request: web.Request) -> web.Response:
        api = request.match_info["api"]
        if api not in apis:
            return respond(_error(404, "VERSION_INCONNUE", api))
        query = dict(request.query)
        found = known.get(UpstreamRequest("GET", f"{api}/eleves", query=query).key())
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
        sent = UpstreamRequest("POST", f"{api}/eleves/recherche-perimetre", body=body)
        found = known.get(sent.key())
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
    return ENDPOINTS[3].success(data)


def _matches(person: Person, search: dict[str, Any]) -> bool:
    """Whether the searched pupil is ``person`` (fields not given match)."""
    sex = {"1": "M", "2": "F"}.get(str(search.get("sexe")))
    if sex not in (None, person.sexe):
        return False
    if search.get("date-naissance") not in (None, person.date_naissance.isoformat()):
        return False
    first = search.get("prenom")
    return first is None or normalise_name(str(first)) in person.prenoms


_SCHOOLS = (
    ("0750652B", "Collège Georges Brassens", "2D"),
    ("0130039X", "Lycée Saint-Charles", "2D"),
    ("0690026D", "Lycée du Parc", "2D"),
    ("0750001A", "École élémentaire Victor Hugo", "1D"),
    ("0310001A", "École primaire Jean Jaurès", "1D"),
)
_MEFS = {
    "1D": (("01110001110", "CM1"), ("01110002110", "CM2"), ("01010001110", "CE1")),
    "2D": (
        ("10310019110", "5EME"),
        ("10010012110", "2NDE GENERALE ET TECHNOLOGIQUE"),
        ("20110019110", "TERMINALE GENERALE"),
    ),
}


def school_year(asked: str) -> str:
    """``2025`` -> ``2025-2026``; a year already given as a span is kept."""
    return asked if "-" in asked else f"{asked}-{int(asked) + 1}"


def synthesize(
    person: Person, asked_year: str, uai: str | None, degre: str | None
) -> dict[str, Any]:
    """The API-shaped answer for a synthetic pupil, stable per person and school year."""
    rng = random.Random(person.seed(f"men.scolarites:{asked_year}"))
    candidates = [s for s in _SCHOOLS if degre in (None, s[2])] or list(_SCHOOLS)
    code, nom, school_degre = rng.choice(candidates)
    if uai is not None:
        code, nom = uai, f"Établissement {uai}"
    mef_code, mef_label = rng.choice(_MEFS[school_degre])
    boursier = rng.random() < 0.3
    return {
        "identite": {
            "nom": person.nom_naissance,
            "prenom": person.prenoms[0],
            "sexe": person.sexe,
            "date_naissance": person.date_naissance.isoformat(),
        },
        "module_elementaire_formation": {"code_mef_stat": mef_code, "libelle": mef_label},
        "annee_scolaire": school_year(asked_year),
        "est_scolarise": True,
        "statut_eleve": {"code": "ST", "libelle": "Scolaire"},
        "etablissement": {"code_uai": code, "nom": nom, "code_ministere_tutelle": "06"},
        "est_boursier": boursier,
        "echelon_bourse": rng.randint(1, 6) if boursier else None,
    }
