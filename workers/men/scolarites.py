"""``men.scolarites``: a pupil's schooling and grant for a school year, API Particulier's
``/v3/men/scolarites/identite`` (version 3) and ``/v4/men/scolarites/identite`` (version 4).

As in API Particulier's serializer, ``men_regime_pensionnat`` unmasks a v5 field only."""

from __future__ import annotations

from functools import partial

from broker.kit import Endpoint, declared

from ._upstream import (
    APIS,
    BY_ERROR,
    ENVELOPE,
    SchoolingParams,
    request_of,
)


class ScolaritesParams(SchoolingParams):
    """Identity pivot (without birthplace), ``anneeScolaire``, and a school or a search area."""


DATASETS = tuple(
    declared(__package__, f"scolarites.v{version}.json").dataset(
        params=ScolaritesParams,
        request=partial(request_of, api),
        errors=BY_ERROR,
        envelope=ENVELOPE,
    )
    for version, api in APIS.items()
)

ENDPOINTS: dict[int, Endpoint[SchoolingParams]] = {d.version: d.endpoint for d in DATASETS}
"""Dataset version -> the register's endpoint serving it."""
