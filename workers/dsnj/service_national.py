"""``dsnj.service_national``: whether a young person is up to date with the national service
(Journée Défense et Citoyenneté), API Particulier's ``/v3/dsnj/service_national/identite``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint

from ._upstream import (
    ACCESS_DENIED,
    ENVELOPE,
    ERRORS,
    PARTNER_REFUSED,
    SHAPE,
    UNKNOWN_PERSON,
    DsnjCivility,
    request_of,
)


class ServiceNationalData(BaseModel):
    statut_service_national: Literal["en_regle", "pas_en_regle", "indetermine", "non_concerne"]
    commentaires: str | None = None


ENDPOINT: Endpoint[DsnjCivility] = Endpoint(
    request=request_of,
    shape=SHAPE,
    data=ServiceNationalData,
    errors={UNKNOWN_PERSON: ERRORS.not_found, PARTNER_REFUSED: ACCESS_DENIED},
    envelope=ENVELOPE,
)


DATASET = Dataset(
    id="dsnj.service_national",
    version=3,
    route="/v3/dsnj/service_national/identite",
    title="Statut service national",
    params=DsnjCivility,
    scopes={"dsnj_statut_service_national": ("statut_service_national", "commentaires")},
    endpoint=ENDPOINT,
    france_connect=True,
    example_params={
        "nomNaissance": "MARTIN",
        "prenoms": ["JEAN", "MICHEL"],
        "anneeDateNaissance": 2006,
        "moisDateNaissance": 1,
        "jourDateNaissance": 15,
        "sexeEtatCivil": "M",
        "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "75056",
    },
)
