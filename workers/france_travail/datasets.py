"""Every France Travail dataset, by name; adding one is adding its module here."""

from __future__ import annotations

from broker.datasets import Dataset

from . import indemnites, statut
from ._dialect import Ressource

_MODULES = (statut, indemnites)

RESSOURCES: dict[str, Ressource] = {m.RESSOURCE.name: m.RESSOURCE for m in _MODULES}
DATASETS: dict[str, Dataset] = {m.DATASET.name: m.DATASET for m in _MODULES}
