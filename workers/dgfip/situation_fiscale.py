"""``dgfip.situation_fiscale``: the income-tax notice of a tax household, found by the tax
number (numéro fiscal, 13 digits) and the notice reference (référence d'avis, 13 or 14
characters) printed on it.

API Particulier served it as ``/api/v2/avis-imposition`` (``impots/svair`` before) and dropped
it in 2024, before its v3; this dataset keeps that dataset's content with v3-style snake_case
names (``revenuFiscalReference`` -> ``revenu_fiscal_reference``...), ISO dates, years as
integers, and ``declarant2`` null for a single declarant.

Scopes keep the names API Particulier's habilitations used for this dataset, so that an agency's
existing habilitation reads unchanged; each unmasks one field:

- ``dgfip_declarant1_nom``, ``dgfip_declarant1_nom_naissance``, ``dgfip_declarant1_prenoms``,
  ``dgfip_declarant1_date_naissance``: ``declarant1.nom``, ``.nom_naissance``, ``.prenoms``,
  ``.date_naissance``; the same four ``dgfip_declarant2_*`` for ``declarant2``;
- ``dgfip_date_recouvrement``, ``dgfip_date_etablissement``: the notice's dates;
- ``dgfip_adresse_fiscale_taxation``, ``dgfip_adresse_fiscale_annee``: ``foyer_fiscal.adresse``
  and ``foyer_fiscal.annee``;
- ``dgfip_nombre_parts``, ``dgfip_nombre_personnes_a_charge``, ``dgfip_situation_familiale``;
- ``dgfip_revenu_brut_global``, ``dgfip_revenu_imposable``,
  ``dgfip_impot_revenu_net_avant_corrections``, ``dgfip_montant_impot``,
  ``dgfip_revenu_fiscal_reference``;
- ``dgfip_annee_impot``, ``dgfip_annee_revenus``, ``dgfip_situation_partielle``.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from broker.datasets import Dataset
from broker.errors import ErrorSpec, ProblemError
from broker.population import Person, Population
from broker.upstream import UpstreamCall

from ._dialect import (
    ENVELOPE,
    ERRORS,
    NOTICE_UNKNOWN,
    REFERENCE_REJECTED,
    RENAMING,
    SPI_REJECTED,
    TAX_NOTICE_INVALID,
    TAX_NUMBER_INVALID,
    SituationFiscaleParams,
    request_body,
)

PATH = "impotparticulier/v1/situations-ir/recherche"

TAX_YEAR = 2024
"""Synthetic households hold the notice of this year, so that their answer never changes."""


class Declarant(BaseModel):
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: str | None = None
    date_naissance: str | None = None


class FoyerFiscal(BaseModel):
    annee: int | None = None
    adresse: str | None = None


class SituationFiscaleData(BaseModel):
    declarant1: Declarant | None = None
    declarant2: Declarant | None = None
    date_recouvrement: str | None = None
    date_etablissement: str | None = None
    nombre_parts: float | None = None
    situation_famille: str | None = None
    nombre_personnes_a_charge: int | None = None
    revenu_brut_global: int | None = None
    revenu_imposable: int | None = None
    impot_revenu_net_avant_corrections: int | None = None
    montant_impot: int | None = None
    """``None`` when the household owes no tax ("non imposable")."""
    revenu_fiscal_reference: int | None = None
    annee_impots: int | None = None
    annee_revenus: int | None = None
    situation_partielle: str | None = None
    foyer_fiscal: FoyerFiscal | None = None


_REJECTED: dict[str, tuple[ErrorSpec, str]] = {
    SPI_REJECTED: (TAX_NUMBER_INVALID, "numeroFiscal"),
    REFERENCE_REJECTED: (TAX_NOTICE_INVALID, "referenceAvis"),
}


async def fetch(call: UpstreamCall, params: SituationFiscaleParams) -> dict[str, Any]:
    response = await call.request("POST", PATH, json_body=request_body(params))
    body = call.json(response)
    if not isinstance(body, dict):
        raise call.invalid()
    if response.status_code == 200:
        return decode(call, body.get(ENVELOPE))
    code = str(body.get("code"))
    if code == NOTICE_UNKNOWN:
        raise ProblemError(ERRORS.not_found)
    if code in _REJECTED:
        spec, parameter = _REJECTED[code]
        raise ProblemError(spec, parameter=parameter)
    raise call.invalid()


def decode(call: UpstreamCall, record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise call.invalid()
    try:
        data: dict[str, Any] = RENAMING.decode(record)
        SituationFiscaleData.model_validate(data)
    except (TypeError, ValidationError):
        raise call.invalid() from None
    return data


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """API shape -> the upstream's 200 body (used by the simulator)."""
    return {ENVELOPE: RENAMING.encode(data)}


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


DATASET = Dataset(
    id="dgfip.situation_fiscale",
    version=3,
    route="/api/v2/avis-imposition",
    title="Situation fiscale (avis d'impôt sur le revenu)",
    params=SituationFiscaleParams,
    data=SituationFiscaleData,
    scopes={
        **{
            f"dgfip_{declarant}_{field}": (f"{declarant}.{field}",)
            for declarant in ("declarant1", "declarant2")
            for field in ("nom", "nom_naissance", "prenoms", "date_naissance")
        },
        "dgfip_date_recouvrement": ("date_recouvrement",),
        "dgfip_date_etablissement": ("date_etablissement",),
        "dgfip_adresse_fiscale_taxation": ("foyer_fiscal.adresse",),
        "dgfip_adresse_fiscale_annee": ("foyer_fiscal.annee",),
        "dgfip_nombre_parts": ("nombre_parts",),
        "dgfip_nombre_personnes_a_charge": ("nombre_personnes_a_charge",),
        "dgfip_situation_familiale": ("situation_famille",),
        "dgfip_revenu_brut_global": ("revenu_brut_global",),
        "dgfip_revenu_imposable": ("revenu_imposable",),
        "dgfip_impot_revenu_net_avant_corrections": ("impot_revenu_net_avant_corrections",),
        "dgfip_montant_impot": ("montant_impot",),
        "dgfip_revenu_fiscal_reference": ("revenu_fiscal_reference",),
        "dgfip_annee_impot": ("annee_impots",),
        "dgfip_annee_revenus": ("annee_revenus",),
        "dgfip_situation_partielle": ("situation_partielle",),
    },
    fetch=fetch,
    example_params={"numeroFiscal": "1456789012345", "referenceAvis": "2423A56789012"},
)
