"""Every CNOUS dataset, in each version API Particulier serves."""

from __future__ import annotations

from broker.kit import Dataset

from . import etudiant_boursier

DATASETS: tuple[Dataset, ...] = etudiant_boursier.DATASETS
