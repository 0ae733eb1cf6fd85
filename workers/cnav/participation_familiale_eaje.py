"""``cnav.participation_familiale_eaje``: what a crèche (EAJE, établissement d'accueil du jeune
enfant) needs to compute a family's hourly rate; API Particulier's
``/v3/dss/participation_familiale_eaje/identite``."""

from __future__ import annotations

from pydantic import BaseModel

from broker.kit import Shape

from ._benefits import SYNTHETIC_EXAMPLE, benefit
from ._people import ALLOCATAIRE_SHAPE, Adresse, Individu, household_shape

_INDIVIDU_SHAPE: Shape = {
    **ALLOCATAIRE_SHAPE,
    "code_cog_insee_commune_naissance": "codeInseeCommuneNaissance",
}


class IndividuNe(Individu):
    code_cog_insee_commune_naissance: str | None = None


class BaseRessourcesAnnuelles(BaseModel):
    valeur: int | None = None
    annee_calcul: int | None = None


class ParametresCalcul(BaseModel):
    nombre_enfants_a_charge: int | None = None
    nombre_enfants_beneficiaire_aeeh: int | None = None
    base_ressources_annuelles: BaseRessourcesAnnuelles | None = None


class ParticipationFamilialeEajeData(BaseModel):
    allocataires: list[IndividuNe]
    enfants: list[IndividuNe]
    adresse: Adresse | None = None
    parametres_calcul_participation_familiale: ParametresCalcul | None = None


DATASET = benefit(
    "participation_familiale_eaje",
    path="eaje",
    title="Participation familiale EAJE",
    shape={
        **household_shape(_INDIVIDU_SHAPE),
        "parametres_calcul_participation_familiale": (
            "elementsCalculTarif",
            {
                "nombre_enfants_a_charge": "nbEnfantsACharge",
                "nombre_enfants_beneficiaire_aeeh": "nbEnfantsAeeh",
                "base_ressources_annuelles": (
                    "ressourcesAnnuelles",
                    {"valeur": "montant", "annee_calcul": "anneeReference"},
                ),
            },
        ),
    },
    data=ParticipationFamilialeEajeData,
    scopes={
        "cnav_participation_familiale_eaje_allocataires": ("allocataires",),
        "cnav_participation_familiale_eaje_enfants": ("enfants",),
        "cnav_participation_familiale_eaje_adresse": ("adresse",),
        "cnav_participation_familiale_eaje_parametres_calcul": (
            "parametres_calcul_participation_familiale",
        ),
    },
    example_params=SYNTHETIC_EXAMPLE,
)
