"""``cnav.prime_activite``: whether a person receives the prime d'activité, and with the
single-parent increase; API Particulier's ``/v3/dss/prime_activite/identite``."""

from __future__ import annotations

from ._benefits import DroitMajore, right
from ._upstream import identity_params


class PrimeActiviteData(DroitMajore):
    pass


DATASET = right(
    "prime_activite",
    path="ppa",
    title="Statut prime d'activité",
    data=PrimeActiviteData,
    example_params=identity_params("GONTRAND", ["YVES"], "M", "1980-09-20", "08480"),
)
