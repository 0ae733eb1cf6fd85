"""The SDH upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest
from broker.simulation import Answer, Person, Population, SimulatorContext, respond

from ._upstream import ERRORS, path_of
from .statut_sportif import DATASET, ENDPOINT

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""

_FAILURES = ENDPOINT.failures(ERRORS)


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASET, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"])

    async def sportif(request: web.Request) -> web.Response:
        identifiant = request.match_info["identifiant"]
        found = known.get(UpstreamRequest("GET", path_of(identifiant)).key())
        return respond(found or _from_population(ctx, identifiant))

    app = web.Application()
    app.router.add_get("/v2/sportifs/{identifiant}", sportif)
    return app


def _from_population(ctx: SimulatorContext, identifiant: str) -> Answer:
    person = person_of(ctx.population, identifiant)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    return ENDPOINT.success(synthesize(person, random.Random(person.seed(DATASET.id))))


def identifiant_of(person: Person) -> str:
    """A synthetic athlete's identifier: the person's index, on at least five digits."""
    return f"{person.index:05d}"


def person_of(population: Population, identifiant: str) -> Person | None:
    if not identifiant.isdigit():
        return None
    index = int(identifiant)
    if index >= population.size or f"{index:05d}" != identifiant:
        return None
    return population.person(index)


_FEDERATIONS = (
    ("29", "Fédération française de handball", "HANDBALL"),
    ("69", "Fédération française de triathlon", "TRIATHLON"),
    ("12", "Fédération française d'athlétisme", "ATHLETISME"),
    ("41", "Fédération française de natation", "NATATION"),
)
_CENTRES = (
    ("2075", "Maison de la Performance Nouvelle-Aquitaine", "75", "Nouvelle-Aquitaine"),
    ("1093", "Maison de la Performance Occitanie", "76", "Occitanie"),
    ("1011", "INSEP", "11", "Île-de-France"),
)
_CATEGORIES = (("1", "Elite"), ("2", "Senior"), ("3", "Relève"), ("4", "Reconversion"))


def _fiche(rng: random.Random, start: date, high_level: bool) -> dict[str, Any]:
    code_f, federation, short = rng.choice(_FEDERATIONS)
    code_e, centre, code_r, region = rng.choice(_CENTRES)
    code_c, category = rng.choice(_CATEGORIES)
    return {
        "periode": {
            "date_debut_statut": start.isoformat(),
            "date_fin_statut": (start + timedelta(days=365 * 2 - 1)).isoformat(),
        },
        "federation": {
            "code_federation": code_f,
            "nom_federation": federation,
            "nom_court_federation": short,
        },
        "etablissement": {"code_etablissement": code_e, "nom_etablissement": centre},
        "region": {"code_region": code_r, "nom_region": region},
        "categorie": {
            "code_categorie": code_c,
            "nom_categorie": category,
            "valeur": str(rng.randrange(1, 200)),
        },
        "sportif_de_haut_niveau": high_level,
    }


def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    """An athlete on a ministerial list, high-level or not, with 0 to 2 previous records."""
    high_level = rng.random() < 0.4
    start = date(AS_OF.year - 1, 1, 1)
    previous = []
    for n in range(rng.randrange(0, 3), 0, -1):
        fiche = _fiche(rng, start - timedelta(days=730 * n), rng.random() < 0.5)
        previous.append({"fiche": rng.randrange(100_000, 999_999), **fiche})
    return {
        "identite": {
            "nom_naissance": person.nom_naissance,
            "nom_usage": None,
            "prenoms": " ".join(person.prenoms),
            "date_naissance": person.date_naissance.isoformat(),
            "sexe": person.sexe,
        },
        "est_sportif_de_haut_niveau": high_level,
        "a_ete_sportif_de_haut_niveau": high_level
        or any(p["sportif_de_haut_niveau"] for p in previous),
        "informations_statut": _fiche(rng, start, high_level),
        "informations_statuts_precedents": previous,
    }
