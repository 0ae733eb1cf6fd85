"""``men.scolarites``: a pupil's schooling and grant for a school year, API Particulier's
``/v3/men/scolarites/identite`` (version 3) and ``/v4/men/scolarites/identite`` (version 4)."""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from broker.datasets import Dataset
from broker.dialect import Shape
from broker.population import Person

from ._dialect import Edition, SchoolingParams


class ScolaritesParams(SchoolingParams):
    """Identity pivot (without birthplace), ``anneeScolaire``, and a school or a search area."""


class IdentiteEleve(BaseModel):
    nom: str | None = None
    prenom: str | None = None
    sexe: Literal["F", "M"] | None = None
    date_naissance: str | None = None


class ModuleElementaireFormation(BaseModel):
    code_mef_stat: str | None = None
    libelle: str | None = None


class Etablissement(BaseModel):
    code_uai: Annotated[str | None, Field(pattern=r"^\d{7}\w$")] = None
    nom: str | None = None
    code_ministere_tutelle: str | None = None


class StatutEleve(BaseModel):
    code: str | None = None
    libelle: str | None = None


class ScolaritesData(BaseModel):
    identite: IdentiteEleve
    module_elementaire_formation: ModuleElementaireFormation | None = None
    etablissement: Etablissement | None = None
    annee_scolaire: Annotated[str | None, Field(pattern=r"^\d{4}$|^\d{4}-\d{4}$")] = None
    est_scolarise: bool | None = None
    statut_eleve: StatutEleve | None = None
    est_boursier: bool | None = None
    echelon_bourse: Literal[1, 2, 3, 4, 5, 6] | None = None
    code_etablissement: str | None = None
    """Older answers name the school here instead of in ``etablissement``."""


SHAPE: Shape = {
    "identite": (
        "eleve",
        {"nom": "nom", "prenom": "prenom", "sexe": "sexe", "date_naissance": "dateNaissance"},
    ),
    "module_elementaire_formation": (
        "mef",
        {"code_mef_stat": "codeMefStat", "libelle": "libelleLong"},
    ),
    "etablissement": (
        "etablissement",
        {
            "code_uai": "uai",
            "nom": "denominationPrincipale",
            "code_ministere_tutelle": "codeMinistere",
        },
    ),
    "annee_scolaire": "anneeScolaire",
    "est_scolarise": "scolarise",
    "statut_eleve": ("statut", {"code": "code", "libelle": "libelle"}),
    "est_boursier": "boursier",
    "echelon_bourse": "echelonBourse",
    "code_etablissement": "uaiScolarisation",
}

EDITIONS: dict[int, Edition] = {
    3: Edition(api="v1", shape=SHAPE, data=ScolaritesData),
    4: Edition(api="v2", shape=SHAPE, data=ScolaritesData),
}
"""Dataset version -> the upstream edition serving it."""

_SCHOOLS = (
    ("0750652B", "Collège Georges Brassens", "2D"),
    ("0130039X", "Lycée Saint-Charles", "2D"),
    ("0690026D", "Lycée du Parc", "2D"),
    ("0750001A", "École élémentaire Victor Hugo", "1D"),
    ("0310001A", "École primaire Jean Jaurès", "1D"),
)
_MEFS = {
    "1D": (("01110001110", "CM1"), ("01110002110", "CM2"), ("01010001110", "CE1")),
    "2D": (
        ("10310019110", "5EME"),
        ("10010012110", "2NDE GENERALE ET TECHNOLOGIQUE"),
        ("20110019110", "TERMINALE GENERALE"),
    ),
}


def school_year(asked: str) -> str:
    """``2025`` -> ``2025-2026``; a year already given as a span is kept."""
    return asked if "-" in asked else f"{asked}-{int(asked) + 1}"


def synthesize(
    person: Person, asked_year: str, uai: str | None, degre: str | None
) -> dict[str, Any]:
    """The API-shaped answer for a synthetic pupil, stable per person and school year."""
    rng = random.Random(person.seed(f"men.scolarites:{asked_year}"))
    candidates = [s for s in _SCHOOLS if degre in (None, s[2])] or list(_SCHOOLS)
    code, nom, school_degre = rng.choice(candidates)
    if uai is not None:
        code, nom = uai, f"Établissement {uai}"
    mef_code, mef_label = rng.choice(_MEFS[school_degre])
    boursier = rng.random() < 0.3
    return {
        "identite": {
            "nom": person.nom_naissance,
            "prenom": person.prenoms[0],
            "sexe": person.sexe,
            "date_naissance": person.date_naissance.isoformat(),
        },
        "module_elementaire_formation": {"code_mef_stat": mef_code, "libelle": mef_label},
        "annee_scolaire": school_year(asked_year),
        "est_scolarise": True,
        "statut_eleve": {"code": "ST", "libelle": "Scolaire"},
        "etablissement": {"code_uai": code, "nom": nom, "code_ministere_tutelle": "06"},
        "est_boursier": boursier,
        "echelon_bourse": rng.randint(1, 6) if boursier else None,
    }


SCOPES = {
    "men_statut_identite": ("identite",),
    "men_statut_scolarite": (
        "annee_scolaire",
        "est_scolarise",
        "statut_eleve",
        "code_etablissement",
    ),
    "men_statut_etablissement": ("etablissement",),
    "men_statut_module_elementaire_formation": ("module_elementaire_formation",),
    "men_statut_boursier": ("est_boursier",),
    "men_echelon_bourse": ("echelon_bourse",),
    "men_regime_pensionnat": (),
}
"""API Particulier's serializer; ``men_regime_pensionnat`` unmasks a v5 field only."""

DATASET_V3 = Dataset(
    id="men.scolarites",
    version=3,
    route="/v3/men/scolarites/identite",
    title="Statut élève scolarisé et boursier",
    params=ScolaritesParams,
    data=ScolaritesData,
    scopes=SCOPES,
    fetch=EDITIONS[3].fetcher(),
    example_params={
        "nomNaissance": "RIVIERE",
        "prenoms": ["CHLOE"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 2016,
        "moisDateNaissance": 7,
        "jourDateNaissance": 6,
        "codeEtablissement": "0131328Y",
        "anneeScolaire": "2025",
    },
)

DATASET_V4 = Dataset(
    id="men.scolarites",
    version=4,
    route="/v4/men/scolarites/identite",
    title="Statut élève scolarisé et boursier",
    params=ScolaritesParams,
    data=ScolaritesData,
    scopes=SCOPES,
    fetch=EDITIONS[4].fetcher(),
    example_params={
        "nomNaissance": "MARTIN",
        "prenoms": ["EMMA"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 2012,
        "moisDateNaissance": 8,
        "jourDateNaissance": 15,
        "codeEtablissement": "0132733A",
        "anneeScolaire": "2025",
    },
)

DATASETS = (DATASET_V3, DATASET_V4)
