"""``cnav.allocation_soutien_familial``: whether a person receives the ASF (allocation de
soutien familial); API Particulier's ``/v3/dss/allocation_soutien_familial/identite``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date
from ._dialect import Prestation


class AllocationSoutienFamilialData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.15
    return {
        "est_beneficiaire": beneficiary,
        "date_debut_droit": opening_date(person, rng) if beneficiary else None,
    }


PRESTATION = Prestation(
    name="allocation_soutien_familial",
    path="asf",
    shape={"est_beneficiaire": "droitOuvert", "date_debut_droit": "dateOuvertureDroit"},
    data=AllocationSoutienFamilialData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.allocation_soutien_familial",
    version=3,
    route="/v3/dss/allocation_soutien_familial/identite",
    title="Statut allocation de soutien familial (ASF)",
    params=BenefitCivility,
    data=AllocationSoutienFamilialData,
    scopes={"allocation_soutien_familial": ("est_beneficiaire", "date_debut_droit")},
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "BERGERAC",
        "nomUsage": "DEPARDIEU",
        "prenoms": ["CYRANO"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 2002,
        "moisDateNaissance": 11,
        "jourDateNaissance": 1,
        "codeCogInseeCommuneNaissance": "08480",
        "codeCogInseePaysNaissance": "99100",
    },
)
