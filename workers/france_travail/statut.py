"""``france_travail.statut``: job-seeker registration, identity, contact and address, API
Particulier's ``/v3/france_travail/statut/identifiant``."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel

from broker.datasets import Dataset
from broker.population import Person

from ._dialect import AS_OF, IdentifiantParams, Ressource

CATEGORIES = {
    1: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS",
    2: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PARTIEL",
    3: "PERSONNE SANS EMPLOI DISPONIBLE DUREE DETERMINEE OU SAISON",
    4: "PERSONNE SANS EMPLOI NON DISPONIBLE IMMEDIATEMENT",
    5: "PERSONNE POURVUE D'UN EMPLOI A LA RECHERCHE D'UN AUTRE",
}


class Identite(BaseModel):
    civilite: Literal["MME", "M."] | None = None
    nom_naissance: str | None = None
    nom_usage: str | None = None
    prenom: str | None = None
    sexe: str | None = None
    date_naissance: str | None = None


class Contact(BaseModel):
    email: str | None = None
    telephone: str | None = None
    telephone2: str | None = None


class Adresse(BaseModel):
    code_cog_insee_commune: str | None = None
    code_postal: str | None = None
    ligne_complement_adresse: str | None = None
    ligne_complement_destinataire: str | None = None
    ligne_complement_distribution: str | None = None
    ligne_nom: str | None = None
    ligne_voie: str | None = None
    localite: str | None = None


class Categorie(BaseModel):
    code: int | None = None
    libelle: str | None = None


class Inscription(BaseModel):
    date_debut: str | None = None
    date_fin: str | None = None
    code_certification_cnav: str | None = None
    categorie: Categorie | None = None


class StatutData(BaseModel):
    identifiant: str
    identite: Identite | None = None
    contact: Contact | None = None
    adresse: Adresse | None = None
    inscription: Inscription | None = None


_TOWNS = (
    ("75056", "75011", "75011 PARIS"),
    ("13055", "13006", "13006 MARSEILLE"),
    ("69123", "69003", "69003 LYON"),
    ("31555", "31400", "31400 TOULOUSE"),
    ("44109", "44000", "44000 NANTES"),
)
_STREETS = ("RUE DE LA PAIX", "AVENUE JEAN JAURES", "BOULEVARD VOLTAIRE", "RUE DES LILAS")


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
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


RESSOURCE = Ressource(
    name="statut",
    path="situation",
    envelope="demandeur",
    shape={
        "identifiant": "loginUsager",
        "identite": (
            "etatCivil",
            {
                "civilite": "civilite",
                "nom_naissance": "nomNaissance",
                "nom_usage": "nomUsage",
                "prenom": "prenom",
                "sexe": "sexe",
                "date_naissance": "dateNaissance",
            },
        ),
        "contact": (
            "coordonnees",
            {"email": "courriel", "telephone": "telephone1", "telephone2": "telephone2"},
        ),
        "adresse": (
            "adressePostale",
            {
                "code_cog_insee_commune": "codeInseeCommune",
                "code_postal": "codePostal",
                "ligne_complement_adresse": "complementAdresse",
                "ligne_complement_destinataire": "complementDestinataire",
                "ligne_complement_distribution": "complementDistribution",
                "ligne_nom": "nomDestinataire",
                "ligne_voie": "voie",
                "localite": "localite",
            },
        ),
        "inscription": (
            "inscription",
            {
                "date_debut": "dateInscription",
                "date_fin": "dateCessation",
                "code_certification_cnav": "certificationCnav",
                "categorie": ("categorieInscription", {"code": "code", "libelle": "libelle"}),
            },
        ),
    },
    data=StatutData,
    synthesize=_synthesize,
)

DATASET = Dataset(
    id="france_travail.statut",
    version=3,
    route="/v3/france_travail/statut/identifiant",
    title="Statut demandeur d'emploi",
    params=IdentifiantParams,
    data=StatutData,
    scopes={
        "pole_emploi_identifiant": ("identifiant",),
        "pole_emploi_identite": ("identite",),
        "pole_emploi_contact": ("contact",),
        "pole_emploi_adresse": ("adresse",),
        "pole_emploi_inscription": ("inscription",),
    },
    fetch=RESSOURCE.fetcher(),
    example_params={"identifiant": "default"},
)
