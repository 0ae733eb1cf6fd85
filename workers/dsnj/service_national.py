"""``dsnj.service_national``: whether a young person is up to date with the national service
(Journée Défense et Citoyenneté), API Particulier's ``/v3/dsnj/service_national/identite``."""

from __future__ import annotations

from broker.kit import Endpoint, declared

from ._upstream import ACCESS_DENIED, ENVELOPE, ERRORS, DsnjCivility, request_of

DATASET = declared(__package__, "service_national.v3.json").dataset(
    params=DsnjCivility,
    request=request_of,
    errors={"JEUNE_INCONNU": ERRORS.not_found, "PARTENAIRE_NON_HABILITE": ACCESS_DENIED},
    envelope=ENVELOPE,
)
ENDPOINT: Endpoint[DsnjCivility] = DATASET.endpoint
