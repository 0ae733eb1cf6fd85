"""The MESRI upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from datetime import date
from typing import Any, Literal

from aiohttp import web

from broker.kit import UpstreamRequest, normalise_name
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import ERRORS, IDENTITY_REJECTED, PATH
from .statut_etudiant import DATASET, ENDPOINT


def _anomaly(status: int, code: str, libelle: str) -> Answer:
    return status, {"anomalie": {"code": code, "libelle": libelle}}


_FAILURES = ENDPOINT.failures(ERRORS)
"""A case's failure (see :meth:`Case.failure`) -> the upstream answer standing for it."""


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASET, _FAILURES, ERRORS)

    async def statut(request: web.Request) -> web.Response:
        query = dict(request.query)
        found = known.get(UpstreamRequest("GET", PATH, query=query).key())
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
    return ENDPOINT.success(synthesize(person))


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


RegimeCode = Literal["RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "RF7"]
_REGIMES: tuple[tuple[str, RegimeCode], ...] = (
    ("formation initiale", "RF1"),
    ("formation initiale", "RF1"),
    ("formation initiale", "RF1"),
    ("contrat d'apprentissage", "RF4"),
    ("formation continue", "RF5"),
)
_SCHOOLS = (
    ("0751717J", "Sorbonne Université", "75105"),
    ("0692437Z", "Université Claude Bernard Lyon 1", "69123"),
    ("0311382J", "Université Toulouse Capitole", "31555"),
    ("0333298F", "Université de Bordeaux", "33063"),
    ("0593559Y", "Université de Lille", "59350"),
)


def synthesize(person: Person) -> dict[str, Any]:
    """The API-shaped answer for a synthetic student, stable per person."""
    rng = random.Random(person.seed("mesri.statut_etudiant"))
    today = date.today()
    year = today.year if today.month >= 9 else today.year - 1
    admissions = []
    for offset in range(rng.choice((1, 1, 2))):
        libelle, code = rng.choice(_REGIMES)
        uai, nom, commune = rng.choice(_SCHOOLS)
        start = year - offset
        admissions.append(
            {
                "date_debut": f"{start}-09-01",
                "date_fin": f"{start + 1}-08-31",
                "est_inscrit": offset > 0 or rng.random() < 0.85,
                "regime_formation": {"libelle": libelle, "code": code},
                "code_cog_insee_commune": commune,
                "etablissement_etudes": {"uai": uai, "nom": nom},
            }
        )
    return {
        "identite": {
            "nom_naissance": person.nom_naissance,
            "prenom": person.prenoms[0],
            "date_naissance": person.date_naissance.isoformat(),
        },
        "admissions": admissions,
    }
