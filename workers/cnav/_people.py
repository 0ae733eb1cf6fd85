"""People and addresses as every CNAV answer shapes them (allocataires, enfants, adresse)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from broker.kit import Shape

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


def household_shape(individu: Shape) -> Shape:
    """Beneficiaries, children and postal address, each person renamed with ``individu``."""
    return {
        "allocataires": ("allocataires", individu),
        "enfants": ("enfants", individu),
        "adresse": ("adressePostale", ADRESSE_SHAPE),
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
