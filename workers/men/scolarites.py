"""``men.scolarites``: a pupil's schooling and grant for a school year, API Particulier's
``/v3/men/scolarites/identite`` (version 3) and ``/v4/men/scolarites/identite`` (version 4).

As in API Particulier's serializer, ``men_regime_pensionnat`` unmasks a v5 field only."""

from __future__ import annotations

from ._upstream import REGISTER, SchoolingParams


class ScolaritesParams(SchoolingParams):
    """Identity pivot (without birthplace), ``anneeScolaire``, and a school or a search area."""


DATASETS = REGISTER.datasets(__package__, "scolarites", ScolaritesParams)
