"""``gip_mds.service_civique``: current and past civic-service contracts of a person, API
Particulier's ``/v3/gip_mds/service_civique/identite``."""

from __future__ import annotations

from broker.kit import Endpoint, declared

from ._upstream import ENVELOPE, GipMdsCivility, MatchingIndividuals, request_of

DATASET = declared(__package__, "service_civique.v3.json").dataset(
    params=GipMdsCivility,
    request=request_of,
    errors={},
    envelope=ENVELOPE,
    endpoint=MatchingIndividuals,
)
ENDPOINT: Endpoint[GipMdsCivility] = DATASET.endpoint
