"""``cnav.allocation_enfant_handicape``: a child's standing towards the AEEH (allocation
d'éducation de l'enfant handicapé); API Particulier's
``/v3/dss/allocation_enfant_handicape/identite``."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date
from ._dialect import Prestation


class AllocationEnfantHandicapeData(BaseModel):
    model_config = ConfigDict(strict=True)

    status: Literal["allocataire", "ouvrant_droit", "non_beneficiaire"]
    """``allocataire``: the person receives it; ``ouvrant_droit``: the child it is paid for."""
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    draw = rng.random()
    status = "allocataire" if draw < 0.05 else "ouvrant_droit" if draw < 0.1 else "non_beneficiaire"
    return {
        "status": status,
        "date_debut_droit": opening_date(person, rng) if status != "non_beneficiaire" else None,
    }


PRESTATION = Prestation(
    name="allocation_enfant_handicape",
    path="aeeh",
    shape={"status": "qualiteDroit", "date_debut_droit": "dateOuvertureDroit"},
    data=AllocationEnfantHandicapeData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.allocation_enfant_handicape",
    version=3,
    route="/v3/dss/allocation_enfant_handicape/identite",
    title="Statut allocation d'éducation de l'enfant handicapé (AEEH)",
    params=BenefitCivility,
    data=AllocationEnfantHandicapeData,
    scopes={"cnav_allocation_enfant_handicape": ("status", "date_debut_droit")},
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "DUPONT",
        "prenoms": ["PIERRE"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 2015,
        "moisDateNaissance": 3,
        "jourDateNaissance": 12,
        "codeCogInseeCommuneNaissance": "75112",
        "codeCogInseePaysNaissance": "99100",
    },
)
