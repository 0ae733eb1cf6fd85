"""``france_travail.statut``: job-seeker registration, identity, contact and address, API
Particulier's ``/v3/france_travail/statut/identifiant``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint, Shape

from ._upstream import IdentifiantParams, seeker_endpoint


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


SHAPE: Shape = {
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
}
ENDPOINT: Endpoint[IdentifiantParams] = seeker_endpoint(
    "situation", SHAPE, StatutData, record="demandeur"
)

DATASET = Dataset(
    id="france_travail.statut",
    version=3,
    route="/v3/france_travail/statut/identifiant",
    title="Statut demandeur d'emploi",
    params=IdentifiantParams,
    scopes={
        "pole_emploi_identifiant": ("identifiant",),
        "pole_emploi_identite": ("identite",),
        "pole_emploi_contact": ("contact",),
        "pole_emploi_adresse": ("adresse",),
        "pole_emploi_inscription": ("inscription",),
    },
    endpoint=ENDPOINT,
    example_params={"identifiant": "default"},
)
