"""``gip_mds.service_civique``: current and past civic-service contracts of a person, API
Particulier's ``/v3/gip_mds/service_civique/identite``."""

from __future__ import annotations

from broker.kit import Endpoint, declared

from ._upstream import ENVELOPE, GipMdsCivility, MatchingIndividuals, request_of

DECLARED = declared(__package__, "service_civique.v3.json")

ENDPOINT: Endpoint[GipMdsCivility] = MatchingIndividuals(
    request=request_of,
    record=DECLARED.record,
    errors={},
    envelope=ENVELOPE,
)


DATASET = DECLARED.dataset(params=GipMdsCivility, endpoint=ENDPOINT)
