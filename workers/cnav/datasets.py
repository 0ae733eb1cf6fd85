"""Every CNAV dataset, by name; adding one is adding its module here."""

from __future__ import annotations

from broker.datasets import Dataset

from . import quotient_familial
from ._dialect import Prestation

_MODULES = (quotient_familial,)

PRESTATIONS: dict[str, Prestation] = {m.PRESTATION.name: m.PRESTATION for m in _MODULES}
DATASETS: dict[str, Dataset] = {m.DATASET.name: m.DATASET for m in _MODULES}
