"""``cnous.etudiant_boursier``: a student's grant (échelon, payment period, place of study),
API Particulier's ``/v3/cnous/etudiant_boursier/identite|ine`` (version 3) and
``/v4/cnous/etudiant_boursier/identite|ine`` (version 4, with the withdrawal status)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from broker.datasets import Dataset
from broker.dialect import Shape
from broker.population import Person

from ._dialect import Edition, StudentParams

Echelon = Literal["0bis", "1", "2", "3", "4", "5", "6", "7"]


class EtudiantBoursierParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, ``prenoms``, birth date...)."""


class PeriodeVersement(BaseModel):
    date_rentree: str | None = None
    duree: int | float | None = None


class EtablissementEtudes(BaseModel):
    nom_commune: str | None = None
    nom_etablissement: str | None = None


class EchelonBourse(BaseModel):
    echelon: Echelon | None = None
    echelon_bourse_regionale_provisoire: bool | None = None


class IdentiteBoursier(BaseModel):
    nom: str | None = None
    prenoms: list[str] | None = None
    date_naissance: str | None = None
    nom_commune_naissance: str | None = None
    sexe: Literal["F", "M"] | None = None


class StatutBoursier(BaseModel):
    est_boursier: bool | None = None
    est_radie: bool | None = None
    date_radiation: str | None = None


class EtudiantBoursierV3(BaseModel):
    est_boursier: bool | None = None
    periode_versement_bourse: PeriodeVersement | None = None
    etablissement_etudes: EtablissementEtudes | None = None
    echelon_bourse: EchelonBourse | None = None
    email: str | None = None
    identite: IdentiteBoursier


class EtudiantBoursierV4(BaseModel):
    statut_boursier: StatutBoursier
    periode_versement_bourse: PeriodeVersement | None = None
    etablissement_etudes: EtablissementEtudes | None = None
    echelon_bourse: EchelonBourse | None = None
    email: str | None = None
    identite: IdentiteBoursier


_COMMON_SHAPE: Shape = {
    "periode_versement_bourse": (
        "versement",
        {"date_rentree": "dateRentree", "duree": "dureeMois"},
    ),
    "etablissement_etudes": (
        "etudes",
        {"nom_commune": "ville", "nom_etablissement": "etablissement"},
    ),
    "echelon_bourse": (
        "echelon",
        {"echelon": "code", "echelon_bourse_regionale_provisoire": "provisoireBourseRegionale"},
    ),
    "email": "courriel",
    "identite": (
        "etudiant",
        {
            "nom": "nomFamille",
            "prenoms": "prenoms",
            "date_naissance": "dateNaissance",
            "nom_commune_naissance": "communeNaissance",
            "sexe": "civilite",
        },
    ),
}

V1 = Edition(
    api="v1",
    shape={"est_boursier": "boursier", **_COMMON_SHAPE},
    data=EtudiantBoursierV3,
)
V2 = Edition(
    api="v2",
    shape={
        "statut_boursier": (
            "statut",
            {"est_boursier": "boursier", "est_radie": "radie", "date_radiation": "dateRadiation"},
        ),
        **_COMMON_SHAPE,
    },
    data=EtudiantBoursierV4,
)
EDITIONS: dict[int, Edition] = {3: V1, 4: V2}
"""Dataset version -> the upstream edition serving it."""

_COMMUNES = {
    "75056": "Paris",
    "13055": "Marseille",
    "69123": "Lyon",
    "31555": "Toulouse",
    "06088": "Nice",
    "44109": "Nantes",
    "67482": "Strasbourg",
    "33063": "Bordeaux",
    "59350": "Lille",
}
_CAMPUSES = (
    ("Paris", "Sorbonne Université"),
    ("Lyon", "Université Claude Bernard Lyon 1"),
    ("Toulouse", "Université Toulouse Capitole"),
    ("Bordeaux", "Université de Bordeaux"),
    ("Rennes", "Université de Rennes"),
    ("Lille", "Université de Lille"),
)
_ECHELONS: tuple[Echelon, ...] = ("0bis", "1", "2", "3", "4", "5", "6", "7")


def _academic_year(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def synthesize(person: Person, version: int) -> dict[str, Any]:
    """The API-shaped answer for a synthetic student, stable per person."""
    rng = random.Random(person.seed("cnous.etudiant_boursier"))
    year = _academic_year(date.today())
    commune, etablissement = _CAMPUSES[rng.randrange(len(_CAMPUSES))]
    withdrawn = rng.random() < 0.05
    record: dict[str, Any] = {
        "periode_versement_bourse": {
            "date_rentree": f"{year}-09-01",
            "duree": rng.choice((10, 12)),
        },
        "etablissement_etudes": {"nom_commune": commune, "nom_etablissement": etablissement},
        "echelon_bourse": {
            "echelon": rng.choice(_ECHELONS),
            "echelon_bourse_regionale_provisoire": rng.random() < 0.1,
        },
        "email": f"{person.prenoms[0]}.{person.nom_naissance}@etudiant.example.fr".lower(),
        "identite": {
            "nom": person.nom_naissance,
            "prenoms": list(person.prenoms),
            "date_naissance": person.date_naissance.isoformat(),
            "nom_commune_naissance": _COMMUNES.get(
                person.code_commune_naissance, person.code_commune_naissance
            ),
            "sexe": person.sexe,
        },
    }
    if version >= 4:
        return {
            "statut_boursier": {
                "est_boursier": not withdrawn,
                "est_radie": withdrawn,
                "date_radiation": f"{year}-12-01" if withdrawn else None,
            },
            **record,
        }
    return {"est_boursier": True, **record}


def _scopes(statut: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """API Particulier's serializer: one group per scope; ``cnous_statut_bourse`` (a v2 field)
    and ``cnous_ine`` (a v5 field) unmask nothing in these versions."""
    return {
        "cnous_statut_boursier": statut,
        "cnous_echelon_bourse": ("echelon_bourse",),
        "cnous_email": ("email",),
        "cnous_periode_versement": ("periode_versement_bourse",),
        "cnous_statut_bourse": (),
        "cnous_ville_etudes": ("etablissement_etudes",),
        "cnous_identite": ("identite",),
        "cnous_ine": (),
    }


DATASET_V3 = Dataset(
    id="cnous.etudiant_boursier",
    version=3,
    route="/v3/cnous/etudiant_boursier/{identite,ine}",
    title="Statut étudiant boursier",
    params=EtudiantBoursierParams,
    data=EtudiantBoursierV3,
    scopes=_scopes(("est_boursier",)),
    fetch=V1.fetcher(),
    example_params={"ine": "1234567890A"},
)

DATASET_V4 = Dataset(
    id="cnous.etudiant_boursier",
    version=4,
    route="/v4/cnous/etudiant_boursier/{identite,ine}",
    title="Statut étudiant boursier",
    params=EtudiantBoursierParams,
    data=EtudiantBoursierV4,
    scopes=_scopes(("statut_boursier",)),
    fetch=V2.fetcher(),
    example_params={
        "nomNaissance": "Pagnol",
        "prenoms": ["Marcel"],
        "anneeDateNaissance": 1998,
        "moisDateNaissance": 7,
        "jourDateNaissance": 12,
        "codeCogInseeCommuneNaissance": "75000",
        "sexeEtatCivil": "M",
    },
)

DATASETS = (DATASET_V3, DATASET_V4)
