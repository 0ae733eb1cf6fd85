"""``mesri.statut_etudiant``: a student's admissions and enrolments in higher education,
API Particulier's ``/v3/mesri/statut_etudiant/identite|ine``."""

from __future__ import annotations

import random
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from broker.datasets import Dataset
from broker.population import Person

from ._dialect import Register, StudentParams

RegimeCode = Literal["RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "RF7"]


class StatutEtudiantParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, birth date, ``sexeEtatCivil``...)."""


class IdentiteEtudiant(BaseModel):
    nom_naissance: str | None = None
    prenom: str | None = None
    date_naissance: str | None = None


class RegimeFormation(BaseModel):
    libelle: str | None = None
    code: RegimeCode | None = None


class EtablissementEtudes(BaseModel):
    uai: Annotated[str | None, Field(pattern=r"^\d{7}\w$")] = None
    nom: str | None = None


class Admission(BaseModel):
    date_debut: str | None = None
    date_fin: str | None = None
    est_inscrit: bool | None = None
    regime_formation: RegimeFormation | None = None
    code_cog_insee_commune: str | None = None
    etablissement_etudes: EtablissementEtudes | None = None


class StatutEtudiantData(BaseModel):
    identite: IdentiteEtudiant
    admissions: list[Admission]


REGISTER = Register(
    shape={
        "identite": (
            "etudiant",
            {
                "nom_naissance": "nomNaissance",
                "prenom": "prenomUsuel",
                "date_naissance": "dateNaissance",
            },
        ),
        "admissions": (
            "inscriptions",
            {
                "date_debut": "debut",
                "date_fin": "fin",
                "est_inscrit": "inscrit",
                "regime_formation": ("regime", {"libelle": "libelle", "code": "code"}),
                "code_cog_insee_commune": "communeEtudes",
                "etablissement_etudes": ("etablissement", {"uai": "uai", "nom": "libelle"}),
            },
        ),
    },
    data=StatutEtudiantData,
)

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


DATASET = Dataset(
    id="mesri.statut_etudiant",
    version=3,
    route="/v3/mesri/statut_etudiant/{identite,ine}",
    title="Statut étudiant",
    params=StatutEtudiantParams,
    data=StatutEtudiantData,
    scopes={
        "mesri_identite": ("identite",),
        "mesri_admissions": ("admissions.date_debut", "admissions.date_fin"),
        "mesri_admission_inscrit": ("admissions.est_inscrit",),
        "mesri_admission_regime_formation": ("admissions.regime_formation",),
        "mesri_admission_commune_etudes": ("admissions.code_cog_insee_commune",),
        "mesri_admission_etablissement_etudes": ("admissions.etablissement_etudes",),
    },
    fetch=REGISTER.fetcher(),
    example_params={
        "nomNaissance": "MELINARD",
        "prenoms": ["PATRICK"],
        "anneeDateNaissance": 1990,
        "moisDateNaissance": 1,
        "jourDateNaissance": 1,
        "sexeEtatCivil": "M",
        "codeCogInseeCommuneNaissance": "78000",
    },
)

DATASETS = (DATASET,)
