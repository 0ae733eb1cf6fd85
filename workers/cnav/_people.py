"""People and addresses as every CNAV answer shapes them (allocataires, enfants, adresse)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel

from broker.dialect import Shape
from broker.population import Person

ALLOCATAIRE_SHAPE: Shape = {
    "nom_naissance": "nomNaissance",
    "nom_usage": "nomUsage",
    "prenoms": "prenoms",
    "date_naissance": "dateNaissance",
    "sexe": "sexe",
}
ADRESSE_SHAPE: Shape = {
    "destinataire": "ligne1",
    "complement_information": "ligne2",
    "complement_information_geographique": "ligne3",
    "numero_libelle_voie": "ligne4",
    "lieu_dit": "ligne5",
    "code_postal_ville": "ligne6",
    "pays": "pays",
}


class Individu(BaseModel):
    nom_naissance: str | None = None
    nom_usage: str | None = None
    prenoms: str | None = None
    date_naissance: str | None = None
    sexe: Literal["F", "M"] | None = None


class Adresse(BaseModel):
    destinataire: str | None = None
    complement_information: str | None = None
    complement_information_geographique: str | None = None
    numero_libelle_voie: str | None = None
    lieu_dit: str | None = None
    code_postal_ville: str | None = None
    pays: str | None = None


_STREETS = ("RUE DE LA PAIX", "AVENUE JEAN JAURES", "BOULEVARD VOLTAIRE", "PLACE DE LA MAIRIE")
_CITIES = ("75011 PARIS", "13006 MARSEILLE", "69003 LYON", "31000 TOULOUSE", "44000 NANTES")
_CHILDREN = ("LUCIE", "TOM", "JADE", "LEO", "ROSE", "GABRIEL")


def individu(person: Person) -> dict[str, Any]:
    return {
        "nom_naissance": person.nom_naissance,
        "nom_usage": None,
        "prenoms": " ".join(person.prenoms),
        "date_naissance": person.date_naissance.isoformat(),
        "sexe": person.sexe,
    }


def synth_household(person: Person, rng: random.Random) -> dict[str, Any]:
    """Beneficiary, children and address of a synthetic household, stable per person."""
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
        "allocataires": [individu(person)],
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
