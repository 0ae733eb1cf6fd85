"""``cnav.allocation_adulte_handicape``: whether a person receives the AAH (allocation aux
adultes handicapés); API Particulier's ``/v3/dss/allocation_adulte_handicape/identite``."""

from __future__ import annotations

from ._benefits import SYNTHETIC_EXAMPLE, Droit, right


class AllocationAdulteHandicapeData(Droit):
    pass


DATASET = right(
    "allocation_adulte_handicape",
    path="aah",
    title="Statut allocation adulte handicapé (AAH)",
    data=AllocationAdulteHandicapeData,
    example_params=SYNTHETIC_EXAMPLE,
)
