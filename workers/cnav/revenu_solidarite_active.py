"""``cnav.revenu_solidarite_active``: whether a person receives the RSA (revenu de solidarité
active), and with the single-parent increase; API Particulier's
``/v3/dss/revenu_solidarite_active/identite``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date
from ._dialect import Prestation


class RevenuSolidariteActiveData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    avec_majoration: bool | None = None
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.3
    return {
        "est_beneficiaire": beneficiary,
        "avec_majoration": rng.random() < 0.2 if beneficiary else None,
        "date_debut_droit": opening_date(person, rng) if beneficiary else None,
    }


PRESTATION = Prestation(
    name="revenu_solidarite_active",
    path="rsa",
    shape={
        "est_beneficiaire": "droitOuvert",
        "avec_majoration": "majorationIsolement",
        "date_debut_droit": "dateOuvertureDroit",
    },
    data=RevenuSolidariteActiveData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.revenu_solidarite_active",
    version=3,
    route="/v3/dss/revenu_solidarite_active/identite",
    title="Statut revenu de solidarité active (RSA)",
    params=BenefitCivility,
    data=RevenuSolidariteActiveData,
    scopes={
        "revenu_solidarite_active": ("est_beneficiaire", "date_debut_droit"),
        "revenu_solidarite_active_majoration": ("avec_majoration",),
    },
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "MARTIN",
        "prenoms": ["SAMUEL"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 1980,
        "moisDateNaissance": 9,
        "jourDateNaissance": 20,
        "codeCogInseeCommuneNaissance": "08480",
        "codeCogInseePaysNaissance": "99100",
    },
)
