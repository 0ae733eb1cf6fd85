"""``cnav.prime_activite``: whether a person receives the prime d'activité, and with the
single-parent increase; API Particulier's ``/v3/dss/prime_activite/identite``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date
from ._dialect import Prestation


class PrimeActiviteData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    avec_majoration: bool | None = None
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.4
    return {
        "est_beneficiaire": beneficiary,
        "avec_majoration": rng.random() < 0.15 if beneficiary else None,
        "date_debut_droit": opening_date(person, rng) if beneficiary else None,
    }


PRESTATION = Prestation(
    name="prime_activite",
    path="ppa",
    shape={
        "est_beneficiaire": "droitOuvert",
        "avec_majoration": "majorationIsolement",
        "date_debut_droit": "dateOuvertureDroit",
    },
    data=PrimeActiviteData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.prime_activite",
    version=3,
    route="/v3/dss/prime_activite/identite",
    title="Statut prime d'activité",
    params=BenefitCivility,
    data=PrimeActiviteData,
    scopes={
        "prime_activite": ("est_beneficiaire", "date_debut_droit"),
        "prime_activite_majoration": ("avec_majoration",),
    },
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "GONTRAND",
        "prenoms": ["YVES"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 1980,
        "moisDateNaissance": 9,
        "jourDateNaissance": 20,
        "codeCogInseeCommuneNaissance": "08480",
        "codeCogInseePaysNaissance": "99100",
    },
)
