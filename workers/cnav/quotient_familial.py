"""``cnav.quotient_familial``: the family quotient (CNAF or MSA), API Particulier's
``/v3/dss/quotient_familial/identite``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from broker.errors import BROKER
from broker.kit import ErrorCode

from ._people import ALLOCATAIRE_SHAPE, Adresse, Individu, household_shape
from ._upstream import CnavCivility, identity_params, prestation


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


DATASET = prestation(
    "quotient_familial",
    path="qf",
    title="Quotient familial CAF & MSA",
    params=QuotientFamilialParams,
    shape={
        **household_shape(ALLOCATAIRE_SHAPE),
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
    scopes={
        "cnaf_quotient_familial": ("quotient_familial",),
        "cnaf_allocataires": ("allocataires",),
        "cnaf_enfants": ("enfants",),
        "cnaf_adresse": ("adresse",),
    },
    example_params=identity_params("DUPONT", ["SOPHIE"], "F", "1982-09-03", "13001"),
)
