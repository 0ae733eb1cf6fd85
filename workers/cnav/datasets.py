"""Every CNAV dataset, by name: each is declared in its ``<name>.v3.json`` and asked on one
prestation segment; adding one is adding its file and its line here."""

from __future__ import annotations

from broker.errors import ErrorSpec
from broker.kit import Dataset, declared

from ._benefits import benefit
from ._upstream import ABSENT_FROM, ABSENT_FROM_RNCPS, prestation
from .quotient_familial import QuotientFamilialParams

_BENEFITS = {
    "revenu_solidarite_active": "rsa",
    "prime_activite": "ppa",
    "allocation_adulte_handicape": "aah",
    "allocation_soutien_familial": "asf",
    "allocation_enfant_handicape": "aeeh",
    "participation_familiale_eaje": "eaje",
    "complementaire_sante_solidaire": "c2s",
}
"""Benefit dataset -> the CNAV's prestation segment."""

_ABSENT_FROM: dict[str, dict[str, ErrorSpec]] = {
    "complementaire_sante_solidaire": ABSENT_FROM_RNCPS,
    "participation_familiale_eaje": {},
}
"""Where the DSS says which organism lacks the file, if not the CNAF or the MSA (C2S: the
RNCPS; EAJE: it never says)."""

DATASETS: dict[str, Dataset] = {
    "quotient_familial": prestation(
        declared(__package__, "quotient_familial.v3.json"), path="qf", params=QuotientFamilialParams
    ),
    **{
        name: benefit(
            declared(__package__, f"{name}.v3.json"),
            path=segment,
            absent_from=_ABSENT_FROM.get(name, ABSENT_FROM),
        )
        for name, segment in _BENEFITS.items()
    },
}
