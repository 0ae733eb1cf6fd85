"""Every CNAV dataset, by name; adding one is adding its module here."""

from __future__ import annotations

from broker.kit import Dataset

from . import (
    allocation_adulte_handicape,
    allocation_enfant_handicape,
    allocation_soutien_familial,
    complementaire_sante_solidaire,
    participation_familiale_eaje,
    prime_activite,
    quotient_familial,
    revenu_solidarite_active,
)

_MODULES = (
    quotient_familial,
    revenu_solidarite_active,
    prime_activite,
    allocation_adulte_handicape,
    allocation_soutien_familial,
    allocation_enfant_handicape,
    participation_familiale_eaje,
    complementaire_sante_solidaire,
)

DATASETS: dict[str, Dataset] = {m.DATASET.name: m.DATASET for m in _MODULES}
