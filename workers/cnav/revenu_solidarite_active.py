"""``cnav.revenu_solidarite_active``: whether a person receives the RSA (revenu de solidarité
active), and with the single-parent increase; API Particulier's
``/v3/dss/revenu_solidarite_active/identite``."""

from __future__ import annotations

from ._benefits import DroitMajore, right
from ._upstream import identity_params


class RevenuSolidariteActiveData(DroitMajore):
    pass


DATASET = right(
    "revenu_solidarite_active",
    path="rsa",
    title="Statut revenu de solidarité active (RSA)",
    data=RevenuSolidariteActiveData,
    example_params=identity_params("MARTIN", ["SAMUEL"], "M", "1980-09-20", "08480"),
)
