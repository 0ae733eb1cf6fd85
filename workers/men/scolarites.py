"""``men.scolarites``: a pupil's schooling and grant for a school year, API Particulier's
``/v3/men/scolarites/identite`` (version 3) and ``/v4/men/scolarites/identite`` (version 4).

As in API Particulier's serializer, ``men_regime_pensionnat`` unmasks a v5 field only."""

from __future__ import annotations

from broker.kit import Endpoint, declared_versions

from ._upstream import (
    APIS,
    BY_ERROR,
    ENVELOPE,
    SchoolingParams,
    request_of,
)


class ScolaritesParams(SchoolingParams):
    """Identity pivot (without birthplace), ``anneeScolaire``, and a school or a search area."""


DATASETS = declared_versions(
    __package__,
    "scolarites",
    APIS,
    params=ScolaritesParams,
    request=request_of,
    errors=BY_ERROR,
    envelope=ENVELOPE,
)

ENDPOINTS: dict[int, Endpoint[SchoolingParams]] = {d.version: d.endpoint for d in DATASETS}
"""Dataset version -> the register's endpoint serving it."""
