"""The France Travail upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest
from broker.simulation import Answer, Person, SimulatorContext, respond

from ._upstream import ERRORS, IdentifiantParams
from .datasets import DATASETS, ENDPOINTS

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""

_FAILURES = ENDPOINTS["statut"].failures(ERRORS)


def build_simulator(ctx: SimulatorContext) -> web.Application:
    probe = IdentifiantParams(identifiant="-")  # a path does not depend on who is asked
    by_path = {endpoint.request(probe).path: name for name, endpoint in ENDPOINTS.items()}
    known: dict[str, Answer] = {}
    for dataset in DATASETS.values():
        known.update(ctx.known_answers(dataset, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"]))

    async def demandeur(request: web.Request) -> web.Response:
        path = f"v1/demandeurs/{request.match_info['ressource']}"
        name = by_path.get(path)
        if name is None:
            return web.json_response({"codeErreur": "RESSOURCE_INCONNUE"}, status=404)
        login = request.query.get("loginUsager", "")
        if not login:
            return web.json_response({"codeErreur": "LOGIN_ABSENT"}, status=400)
        key = UpstreamRequest("GET", path, query=dict(request.query)).key()
        return respond(known.get(key) or _from_population(ctx, name, login))

    app = web.Application()
    app.router.add_get("/v1/demandeurs/{ressource}", demandeur)
    return app


def _from_population(ctx: SimulatorContext, name: str, login: str) -> Answer:
    person = ctx.population.by_identifiant(login)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    rng = random.Random(person.seed(DATASETS[name].id))
    return ENDPOINTS[name].success(_SYNTHESIZERS[name](person, rng))


CATEGORIES = {
    1: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS",
    2: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PARTIEL",
    3: "PERSONNE SANS EMPLOI DISPONIBLE DUREE DETERMINEE OU SAISON",
    4: "PERSONNE SANS EMPLOI NON DISPONIBLE IMMEDIATEMENT",
    5: "PERSONNE POURVUE D'UN EMPLOI A LA RECHERCHE D'UN AUTRE",
}


_TOWNS = (
    ("75056", "75011", "75011 PARIS"),
    ("13055", "13006", "13006 MARSEILLE"),
    ("69123", "69003", "69003 LYON"),
    ("31555", "31400", "31400 TOULOUSE"),
    ("44109", "44000", "44000 NANTES"),
)
_STREETS = ("RUE DE LA PAIX", "AVENUE JEAN JAURES", "BOULEVARD VOLTAIRE", "RUE DES LILAS")


def _statut(person: Person, rng: random.Random) -> dict[str, Any]:
    cog, postcode, town = rng.choice(_TOWNS)
    start = AS_OF - timedelta(days=rng.randrange(30, 1500))
    ended = rng.random() < 0.2
    code = rng.choice(tuple(CATEGORIES))
    first = person.prenoms[0]
    return {
        "identifiant": person.identifiant,
        "identite": {
            "civilite": "MME" if person.sexe == "F" else "M.",
            "nom_naissance": person.nom_naissance,
            "nom_usage": None,
            "prenom": first,
            "sexe": "Féminin" if person.sexe == "F" else "Masculin",
            "date_naissance": person.date_naissance.isoformat(),
        },
        "contact": {
            "email": f"{first}.{person.nom_naissance}@exemple.fr".lower(),
            "telephone": f"06{rng.randrange(10**8):08d}",
            "telephone2": None,
        },
        "adresse": {
            "code_cog_insee_commune": cog,
            "code_postal": postcode,
            "ligne_complement_adresse": None,
            "ligne_complement_destinataire": None,
            "ligne_complement_distribution": None,
            "ligne_nom": f"{first} {person.nom_naissance}",
            "ligne_voie": f"{rng.randrange(1, 120)} {rng.choice(_STREETS)}",
            "localite": town,
        },
        "inscription": {
            "date_debut": start.isoformat(),
            "date_fin": (start + timedelta(days=rng.randrange(20, 400))).isoformat()
            if ended
            else None,
            "code_certification_cnav": "VC",
            "categorie": {"code": code, "libelle": CATEGORIES[code]},
        },
    }


def _indemnites(person: Person, rng: random.Random) -> dict[str, Any]:
    payments = []
    for back in range(rng.randrange(1, 7), 0, -1):
        year, month = divmod(AS_OF.year * 12 + AS_OF.month - 1 - back, 12)
        allocations = round(rng.uniform(300, 1800), 2)
        aides = round(rng.choice((0.0, 0.0, rng.uniform(20, 200))), 2)
        payments.append(
            {
                "date_versement": date(year, month + 1, 1).isoformat(),
                "montant_total": round(allocations + aides, 2),
                "montant_allocations": allocations,
                "montant_aides": aides,
                "montant_autres": 0.0,
            }
        )
    return {"identifiant": person.identifiant, "paiements": payments}


_SYNTHESIZERS: dict[str, Callable[[Person, random.Random], dict[str, Any]]] = {
    "statut": _statut,
    "indemnites": _indemnites,
}
"""The API-shaped data of a synthetic job seeker, by dataset (``rng`` is seeded by person)."""
