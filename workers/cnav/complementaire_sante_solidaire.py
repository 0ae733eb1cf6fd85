"""``cnav.complementaire_sante_solidaire``: whether a person is covered by the C2S
(complémentaire santé solidaire), and with a financial contribution; API Particulier's
``/v3/dss/complementaire_sante_solidaire/identite``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict

from broker.datasets import Dataset
from broker.population import Person

from ._benefits import NOT_FOUND_DETAIL, BenefitCivility, opening_date
from ._dialect import Prestation


class ComplementaireSanteSolidaireData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    avec_participation: bool | None = None
    date_debut_droit: str | None = None


def _synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    beneficiary = rng.random() < 0.3
    return {
        "est_beneficiaire": beneficiary,
        "avec_participation": beneficiary and rng.random() < 0.4,
        "date_debut_droit": opening_date(person, rng) if beneficiary else None,
    }


PRESTATION = Prestation(
    name="complementaire_sante_solidaire",
    path="c2s",
    shape={
        "est_beneficiaire": "droitOuvert",
        "avec_participation": "participationFinanciere",
        "date_debut_droit": "dateOuvertureDroit",
    },
    data=ComplementaireSanteSolidaireData,
    synthesize=_synthesize,
    not_found_detail=NOT_FOUND_DETAIL,
)

DATASET = Dataset(
    id="cnav.complementaire_sante_solidaire",
    version=3,
    route="/v3/dss/complementaire_sante_solidaire/identite",
    title="Statut complémentaire santé solidaire (C2S)",
    params=BenefitCivility,
    data=ComplementaireSanteSolidaireData,
    scopes={
        "complementaire_sante_solidaire": (
            "est_beneficiaire",
            "avec_participation",
            "date_debut_droit",
        ),
    },
    fetch=PRESTATION.fetcher(),
    example_params={
        "nomNaissance": "MARTIN",
        "prenoms": ["PIERRE"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 1987,
        "moisDateNaissance": 6,
        "jourDateNaissance": 12,
        "codeCogInseeCommuneNaissance": "13055",
        "codeCogInseePaysNaissance": "99100",
    },
)
