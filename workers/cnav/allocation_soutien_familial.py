"""``cnav.allocation_soutien_familial``: whether a person receives the ASF (allocation de
soutien familial); API Particulier's ``/v3/dss/allocation_soutien_familial/identite``."""

from __future__ import annotations

from ._benefits import Droit, right
from ._upstream import identity_params


class AllocationSoutienFamilialData(Droit):
    pass


DATASET = right(
    "allocation_soutien_familial",
    path="asf",
    title="Statut allocation de soutien familial (ASF)",
    data=AllocationSoutienFamilialData,
    example_params=identity_params(
        "BERGERAC", ["CYRANO"], "M", "2002-11-01", "08480", nom_usage="DEPARDIEU"
    ),
)
