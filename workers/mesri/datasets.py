"""Every MESRI dataset."""

from __future__ import annotations

from broker.kit import Dataset

from . import statut_etudiant

DATASETS: tuple[Dataset, ...] = statut_etudiant.DATASETS
