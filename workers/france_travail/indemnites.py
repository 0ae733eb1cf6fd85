"""``france_travail.indemnites``: the payments France Travail made to a person, API
Particulier's ``/v3/france_travail/indemnites/identifiant``."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pydantic import BaseModel

from broker.datasets import Dataset
from broker.population import Person

from ._dialect import AS_OF, IdentifiantParams, Ressource


class Paiement(BaseModel):
    date_versement: str | None = None
    montant_total: float | None = None
    montant_allocations: float | None = None
    montant_aides: float | None = None
    montant_autres: float | None = None


class IndemnitesData(BaseModel):
    identifiant: str
    paiements: list[Paiement]


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    payments = []
    for back in range(rng.randrange(1, 7), 0, -1):
        year, month = divmod(AS_OF.year * 12 + AS_OF.month - 1 - back, 12)
        allocations = round(rng.uniform(300, 1800), 2)
        aides = round(rng.choice((0.0, 0.0, rng.uniform(20, 200))), 2)
        payments.append(
            {
                "date_versement": date(year, month + 1, 1).isoformat(),
                "montant_total": round(allocations + aides, 2),
                "montant_allocations": allocations,
                "montant_aides": aides,
                "montant_autres": 0.0,
            }
        )
    return {"identifiant": person.identifiant, "paiements": payments}


RESSOURCE = Ressource(
    name="indemnites",
    path="versements",
    envelope=None,
    shape={
        "identifiant": "loginUsager",
        "paiements": (
            "versements",
            {
                "date_versement": "dateVersement",
                "montant_total": "montantTotal",
                "montant_allocations": "montantAllocations",
                "montant_aides": "montantAides",
                "montant_autres": "montantAutres",
            },
        ),
    },
    data=IndemnitesData,
    synthesize=_synthesize,
)

DATASET = Dataset(
    id="france_travail.indemnites",
    version=3,
    route="/v3/france_travail/indemnites/identifiant",
    title="Paiements versés par France Travail",
    params=IdentifiantParams,
    data=IndemnitesData,
    scopes={"pole_emploi_paiements": ("identifiant", "paiements")},
    fetch=RESSOURCE.fetcher(),
    example_params={"identifiant": "default"},
)
