"""``cnav.allocation_adulte_handicape``: whether a person receives the AAH (allocation aux
adultes handicapés); API Particulier's ``/v3/dss/allocation_adulte_handicape/identite``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date, synthetic_example
from ._dialect import Prestation


class AllocationAdulteHandicapeData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.1
    return {
        "est_beneficiaire": beneficiary,
        "date_debut_droit": opening_date(person, rng) if beneficiary else None,
    }


PRESTATION = Prestation(
    name="allocation_adulte_handicape",
    path="aah",
    shape={"est_beneficiaire": "droitOuvert", "date_debut_droit": "dateOuvertureDroit"},
    data=AllocationAdulteHandicapeData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.allocation_adulte_handicape",
    version=3,
    route="/v3/dss/allocation_adulte_handicape/identite",
    title="Statut allocation adulte handicapé (AAH)",
    params=BenefitCivility,
    data=AllocationAdulteHandicapeData,
    scopes={"allocation_adulte_handicape": ("est_beneficiaire", "date_debut_droit")},
    fetch=PRESTATION.fetcher(),
    example_params=synthetic_example(),
)
