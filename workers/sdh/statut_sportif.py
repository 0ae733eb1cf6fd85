"""``sdh.statut_sportif``: high-level athlete status (and national squads, referees and
judges lists), API Particulier's ``/v3/sdh/statut_sportif/identifiant``."""

from __future__ import annotations

from broker.errors import BROKER
from broker.kit import Endpoint, UpstreamRequest, declared

from ._upstream import ERRORS, SdhParams, path_of

DATASET = declared(__package__, "statut_sportif.v3.json").dataset(
    params=SdhParams,
    request=lambda params: UpstreamRequest("GET", path_of(params.identifiant)),
    errors={"SPORTIF_INCONNU": ERRORS.not_found, "IDENTIFIANT_INVALIDE": BROKER.PARAMS_INVALID},
)
ENDPOINT: Endpoint[SdhParams] = DATASET.endpoint
