"""``cnav.quotient_familial``: the family quotient (CNAF or MSA), API Particulier's
``/v3/dss/quotient_familial/identite``."""

from __future__ import annotations

import random
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from broker.datasets import Dataset, ErrorCode
from broker.errors import BROKER
from broker.population import Person

from ._dialect import CnavCivility, Prestation
from ._people import ADRESSE_SHAPE, ALLOCATAIRE_SHAPE, Adresse, Individu, synth_household


class QuotientFamilialParams(CnavCivility):
    annee: Annotated[int | None, ErrorCode(BROKER.PARAMS_INVALID), Field(ge=2000, le=2100)] = None
    mois: Annotated[int | None, ErrorCode(BROKER.PARAMS_INVALID), Field(ge=1, le=12)] = None


class QuotientFamilial(BaseModel):
    fournisseur: Literal["CNAF", "MSA"] | None = None
    valeur: int | None = None
    annee: int | None = None
    mois: int | None = None
    annee_calcul: int | None = None
    mois_calcul: int | None = None


class QuotientFamilialData(BaseModel):
    allocataires: list[Individu]
    enfants: list[Individu]
    adresse: Adresse | None = None
    quotient_familial: QuotientFamilial


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    household = synth_household(person, rng)
    today = date.today()
    return {
        **household,
        "quotient_familial": {
            "fournisseur": "MSA" if rng.random() < 0.1 else "CNAF",
            "valeur": rng.randrange(150, 2600, 10),
            "annee": today.year,
            "mois": today.month,
            "annee_calcul": today.year,
            "mois_calcul": today.month,
        },
    }


PRESTATION = Prestation(
    name="quotient_familial",
    path="qf",
    shape={
        "allocataires": ("allocataires", ALLOCATAIRE_SHAPE),
        "enfants": ("enfants", ALLOCATAIRE_SHAPE),
        "adresse": ("adressePostale", ADRESSE_SHAPE),
        "quotient_familial": (
            "quotientFamilial",
            {
                "fournisseur": "regime",
                "valeur": "montant",
                "annee": "anneeEffet",
                "mois": "moisEffet",
                "annee_calcul": "anneeCalcul",
                "mois_calcul": "moisCalcul",
            },
        ),
    },
    data=QuotientFamilialData,
    synthesize=_synthesize,
)

DATASET = Dataset(
    id="cnav.quotient_familial",
    version=3,
    route="/v3/dss/quotient_familial/identite",
    title="Quotient familial CAF & MSA",
    params=QuotientFamilialParams,
    data=QuotientFamilialData,
    scopes={
        "cnaf_quotient_familial": ("quotient_familial",),
        "cnaf_allocataires": ("allocataires",),
        "cnaf_enfants": ("enfants",),
        "cnaf_adresse": ("adresse",),
    },
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "DUPONT",
        "prenoms": ["SOPHIE"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 1982,
        "moisDateNaissance": 9,
        "jourDateNaissance": 3,
        "codeCogInseeCommuneNaissance": "13001",
        "codeCogInseePaysNaissance": "99100",
    },
)
