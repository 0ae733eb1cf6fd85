"""The DGFIP upstream simulator: conformance cases first, then the synthetic population.

API Particulier has no staging cases for this dataset any more: the project's own cases live in
``tests/conformance/dgfip/`` and reach the simulator like any other folder of cases.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from aiohttp import web

from broker.kit import UpstreamRequest
from broker.simulation import Answer, Person, Population, SimulatorContext, respond

from ._upstream import ERRORS, PATH, TAX_NUMBER_INVALID
from .situation_fiscale import DATASET, ENDPOINT

TAX_YEAR = 2024
"""Synthetic households hold the notice of this year, so that their answer never changes."""

_FAILURES = ENDPOINT.failures(ERRORS)


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = ctx.known_answers(DATASET, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"])

    async def recherche(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            spi, reference = str(body["spi"]), str(body["referenceAvis"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"code": "REQUETE_INVALIDE"}, status=400)
        key = UpstreamRequest("POST", PATH, body=body).key()
        return respond(known.get(key) or _from_population(ctx, spi, reference))

    app = web.Application()
    app.router.add_post(f"/{PATH}", recherche)
    return app


def _from_population(ctx: SimulatorContext, spi: str, reference: str) -> Answer:
    if not (spi.isdigit() and len(spi) == 13):
        return _FAILURES[f"code:{TAX_NUMBER_INVALID.code}"]
    person = person_of(ctx.population, spi, reference)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    return ENDPOINT.success(synthesize(person, random.Random(person.seed(DATASET.id))))


def reference_avis_of(person: Person) -> str:
    """A synthetic household's notice reference: year, index and two check letters."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    seed = person.seed("dgfip.reference")
    check = letters[seed % 23] + letters[(seed // 23) % 23]
    return f"{TAX_YEAR % 100:02d}{person.index:09d}{check}"


def person_of(population: Population, numero_fiscal: str, reference: str) -> Person | None:
    """The synthetic household of a notice, when both identifiers designate it."""
    person = population.by_index_code(numero_fiscal, prefix="39")
    if person is None or person.numero_fiscal != numero_fiscal:
        return None
    return person if reference_avis_of(person) == reference else None


_SPOUSE_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "LEROY")
_SPOUSE_FIRST = {"F": ("PAUL", "MARC", "LUC", "ERIC"), "M": ("ANNE", "CLAIRE", "JULIE", "NINA")}
_ADDRESSES = (
    "12 RUE DE LA PAIX 75002 PARIS",
    "4 AVENUE JEAN JAURES 69007 LYON",
    "27 BOULEVARD VOLTAIRE 13001 MARSEILLE",
    "8 PLACE DU CAPITOLE 31000 TOULOUSE",
)


def _parts(couple: bool, dependants: int) -> float:
    base = 2.0 if couple else 1.0
    extra = 0.5 * min(dependants, 2) + 1.0 * max(dependants - 2, 0)
    if not couple and dependants:
        extra += 0.5
    return base + extra


def _tax(income: int, parts: float) -> int | None:
    """A rough progressive tax, ``None`` under the threshold (not taxable)."""
    per_part = income / parts
    brackets = ((11_294, 0.0), (28_797, 0.11), (82_341, 0.30), (177_106, 0.41))
    tax, floor = 0.0, 0.0
    for ceiling, rate in brackets:
        tax += max(0.0, min(per_part, ceiling) - floor) * rate
        floor = ceiling
    tax += max(0.0, per_part - floor) * 0.45
    total = round(tax * parts)
    return total if total >= 61 else None


def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    """A single, couple or single-parent household with its last income-tax notice."""
    year = TAX_YEAR
    draw = rng.random()
    couple = draw < 0.45
    dependants = rng.choice((0, 1, 2, 3)) if couple or draw > 0.9 else 0
    parts = _parts(couple, dependants)
    income = rng.randrange(8_000, 95_000) * (2 if couple else 1)
    tax = _tax(income, parts)
    spouse = None
    if couple:
        spouse_birth = person.date_naissance.replace(year=person.date_naissance.year + 1, day=1)
        spouse = {
            "nom": person.nom_naissance,
            "nom_naissance": rng.choice(_SPOUSE_NAMES),
            "prenoms": rng.choice(_SPOUSE_FIRST[person.sexe]),
            "date_naissance": spouse_birth.isoformat(),
        }
    if couple:
        situation = rng.choice(("Marié(e)s", "Pacsé(e)s"))
    else:
        situation = rng.choice(("Célibataire", "Divorcé(e)", "Veuf(ve)"))
    return {
        "declarant1": {
            "nom": person.nom_naissance,
            "nom_naissance": person.nom_naissance,
            "prenoms": " ".join(person.prenoms),
            "date_naissance": person.date_naissance.isoformat(),
        },
        "declarant2": spouse,
        "date_recouvrement": date(year, 7, 31).isoformat(),
        "date_etablissement": date(year, 7, rng.randrange(5, 25)).isoformat(),
        "nombre_parts": parts,
        "situation_famille": situation,
        "nombre_personnes_a_charge": dependants,
        "revenu_brut_global": income,
        "revenu_imposable": income,
        "impot_revenu_net_avant_corrections": tax,
        "montant_impot": tax,
        "revenu_fiscal_reference": income + rng.randrange(0, 800),
        "annee_impots": year,
        "annee_revenus": year - 1,
        "situation_partielle": None,
        "foyer_fiscal": {"annee": year, "adresse": rng.choice(_ADDRESSES)},
    }
