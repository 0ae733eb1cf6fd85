"""Every MEN dataset, in each version API Particulier serves."""

from __future__ import annotations

from broker.kit import Dataset

from . import scolarites

DATASETS: tuple[Dataset, ...] = scolarites.DATASETS
