"""``cnav.participation_familiale_eaje``: what a crèche (EAJE, établissement d'accueil du jeune
enfant) needs to compute a family's hourly rate; API Particulier's
``/v3/dss/participation_familiale_eaje/identite``."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pydantic import BaseModel

from broker.datasets import Dataset
from broker.dialect import Shape
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, synthetic_example
from ._dialect import Prestation
from ._people import ADRESSE_SHAPE, ALLOCATAIRE_SHAPE, Adresse, Individu, synth_household

_INDIVIDU_SHAPE: Shape = {
    **ALLOCATAIRE_SHAPE,
    "code_cog_insee_commune_naissance": "codeInseeCommuneNaissance",
}
_BIRTH_COMMUNES = ("75113", "13055", "69123", "33063", "59350", "44109")


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


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    household = synth_household(person, rng)
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


PRESTATION = Prestation(
    name="participation_familiale_eaje",
    path="eaje",
    shape={
        "allocataires": ("allocataires", _INDIVIDU_SHAPE),
        "enfants": ("enfants", _INDIVIDU_SHAPE),
        "adresse": ("adressePostale", ADRESSE_SHAPE),
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
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.participation_familiale_eaje",
    version=3,
    route="/v3/dss/participation_familiale_eaje/identite",
    title="Participation familiale EAJE",
    params=BenefitCivility,
    data=ParticipationFamilialeEajeData,
    scopes={
        "cnav_participation_familiale_eaje_allocataires": ("allocataires",),
        "cnav_participation_familiale_eaje_enfants": ("enfants",),
        "cnav_participation_familiale_eaje_adresse": ("adresse",),
        "cnav_participation_familiale_eaje_parametres_calcul": (
            "parametres_calcul_participation_familiale",
        ),
    },
    fetch=PRESTATION.fetcher(),
    example_params=synthetic_example(),
)
