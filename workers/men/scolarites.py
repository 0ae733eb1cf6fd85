"""``men.scolarites``: a pupil's schooling and grant for a school year, API Particulier's
``/v3/men/scolarites/identite`` (version 3) and ``/v4/men/scolarites/identite`` (version 4)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from broker.kit import Dataset, Endpoint

from ._upstream import (
    APIS,
    BY_ERROR,
    ENVELOPE,
    SHAPE,
    SchoolingParams,
    request_of,
)


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


ENDPOINTS: dict[int, Endpoint[SchoolingParams]] = {
    version: Endpoint(
        request=partial(request_of, api),
        shape=SHAPE,
        data=ScolaritesData,
        errors=BY_ERROR,
        envelope=ENVELOPE,
    )
    for version, api in APIS.items()
}
"""Dataset version -> the register's endpoint serving it."""

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


def _dataset(version: int, example_params: dict[str, Any]) -> Dataset:
    return Dataset(
        id="men.scolarites",
        version=version,
        route=f"/v{version}/men/scolarites/identite",
        title="Statut élève scolarisé et boursier",
        params=ScolaritesParams,
        scopes=SCOPES,
        endpoint=ENDPOINTS[version],
        example_params=example_params,
    )


DATASETS = (
    _dataset(
        3,
        {
            "nomNaissance": "RIVIERE",
            "prenoms": ["CHLOE"],
            "sexeEtatCivil": "F",
            "anneeDateNaissance": 2016,
            "moisDateNaissance": 7,
            "jourDateNaissance": 6,
            "codeEtablissement": "0131328Y",
            "anneeScolaire": "2025",
        },
    ),
    _dataset(
        4,
        {
            "nomNaissance": "MARTIN",
            "prenoms": ["EMMA"],
            "sexeEtatCivil": "F",
            "anneeDateNaissance": 2012,
            "moisDateNaissance": 8,
            "jourDateNaissance": 15,
            "codeEtablissement": "0132733A",
            "anneeScolaire": "2025",
        },
    ),
)
