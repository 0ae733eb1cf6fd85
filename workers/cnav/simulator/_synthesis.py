"""Synthetic CNAV records: each dataset's API-shaped data for a person of the population,
drawn from a generator seeded by person so that an answer never changes."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from broker.simulation import Person

Synthesize = Callable[[Person, random.Random], dict[str, Any]]

_STREETS = ("RUE DE LA PAIX", "AVENUE JEAN JAURES", "BOULEVARD VOLTAIRE", "PLACE DE LA MAIRIE")
_CITIES = ("75011 PARIS", "13006 MARSEILLE", "69003 LYON", "31000 TOULOUSE", "44000 NANTES")
_CHILDREN = ("LUCIE", "TOM", "JADE", "LEO", "ROSE", "GABRIEL")
_BIRTH_COMMUNES = ("75113", "13055", "69123", "33063", "59350", "44109")
_EARLIEST_RIGHT = date(2015, 1, 1)


def _individu(person: Person) -> dict[str, Any]:
    return {
        "nom_naissance": person.nom_naissance,
        "nom_usage": None,
        "prenoms": " ".join(person.prenoms),
        "date_naissance": person.date_naissance.isoformat(),
        "sexe": person.sexe,
    }


def _household(person: Person, rng: random.Random) -> dict[str, Any]:
    """Beneficiary, children and address of a synthetic household."""
    children = []
    for n in range(rng.randrange(0, 4)):
        born = person.date_naissance + timedelta(days=9000 + 700 * n + rng.randrange(300))
        children.append(
            {
                "nom_naissance": person.nom_naissance,
                "nom_usage": None,
                "prenoms": _CHILDREN[rng.randrange(len(_CHILDREN))],
                "date_naissance": born.isoformat(),
                "sexe": rng.choice("FM"),
            }
        )
    civility = "Madame" if person.sexe == "F" else "Monsieur"
    return {
        "allocataires": [_individu(person)],
        "enfants": children,
        "adresse": {
            "destinataire": f"{civility} {person.nom_naissance} {' '.join(person.prenoms)}",
            "complement_information": None,
            "complement_information_geographique": None,
            "numero_libelle_voie": f"{rng.randrange(1, 120)} {rng.choice(_STREETS)}",
            "lieu_dit": None,
            "code_postal_ville": rng.choice(_CITIES),
            "pays": "FRANCE",
        },
    }


def _opening_date(person: Person, rng: random.Random) -> str:
    """A first day of month, after the person's birth, when a synthetic right opened."""
    start = max(_EARLIEST_RIGHT, person.date_naissance + timedelta(days=31))
    opened = start + timedelta(days=rng.randrange(3650))
    return opened.replace(day=1).isoformat()


def _quotient_familial(person: Person, rng: random.Random) -> dict[str, Any]:
    household = _household(person, rng)
    today = date.today()
    return {
        **household,
        "quotient_familial": {
            "fournisseur": "MSA" if rng.random() < 0.1 else "CNAF",
            "valeur": rng.randrange(150, 2600, 10),
            "annee": today.year,
            "mois": today.month,
            "annee_calcul": today.year,
            "mois_calcul": today.month,
        },
    }


def _participation_familiale_eaje(person: Person, rng: random.Random) -> dict[str, Any]:
    household = _household(person, rng)
    for allocataire in household["allocataires"]:
        allocataire["code_cog_insee_commune_naissance"] = person.code_commune_naissance
    for child in household["enfants"]:
        child["code_cog_insee_commune_naissance"] = rng.choice(_BIRTH_COMMUNES)
    children = len(household["enfants"])
    return {
        **household,
        "parametres_calcul_participation_familiale": {
            "nombre_enfants_a_charge": children,
            "nombre_enfants_beneficiaire_aeeh": int(children > 0 and rng.random() < 0.05),
            "base_ressources_annuelles": {
                "valeur": rng.randrange(6_000, 95_000),
                "annee_calcul": date.today().year - 2,
            },
        },
    }


def _right(share: float, **details: Callable[[random.Random], object]) -> Synthesize:
    """A right held by ``share`` of people; each of ``details`` is drawn for its holders only
    and is ``None`` for the others."""

    def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
        beneficiary = rng.random() < share
        drawn = {k: draw(rng) if beneficiary else None for k, draw in details.items()}
        return {
            "est_beneficiaire": beneficiary,
            **drawn,
            "date_debut_droit": _opening_date(person, rng) if beneficiary else None,
        }

    return synthesize


def _complementaire_sante_solidaire(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.3
    return {
        "est_beneficiaire": beneficiary,
        "avec_participation": beneficiary and rng.random() < 0.4,
        "date_debut_droit": _opening_date(person, rng) if beneficiary else None,
    }


def _allocation_enfant_handicape(person: Person, rng: random.Random) -> dict[str, Any]:
    draw = rng.random()
    status = "allocataire" if draw < 0.05 else "ouvrant_droit" if draw < 0.1 else "non_beneficiaire"
    return {
        "status": status,
        "date_debut_droit": _opening_date(person, rng) if status != "non_beneficiaire" else None,
    }


SYNTHESIZERS: dict[str, Synthesize] = {
    "quotient_familial": _quotient_familial,
    "revenu_solidarite_active": _right(0.3, avec_majoration=lambda rng: rng.random() < 0.2),
    "prime_activite": _right(0.4, avec_majoration=lambda rng: rng.random() < 0.15),
    "allocation_adulte_handicape": _right(0.1),
    "allocation_soutien_familial": _right(0.15),
    "allocation_enfant_handicape": _allocation_enfant_handicape,
    "participation_familiale_eaje": _participation_familiale_eaje,
    "complementaire_sante_solidaire": _complementaire_sante_solidaire,
}
"""Each dataset's synthesizer, by dataset name."""
