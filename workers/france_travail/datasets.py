"""Every France Travail dataset, by name; adding one is adding its module here."""

from __future__ import annotations

from broker.kit import Dataset, Endpoint

from . import indemnites, statut
from ._upstream import IdentifiantParams

_MODULES = (statut, indemnites)

ENDPOINTS: dict[str, Endpoint[IdentifiantParams]] = {
    m.DATASET.name: m.DATASET.endpoint for m in _MODULES
}
DATASETS: dict[str, Dataset] = {m.DATASET.name: m.DATASET for m in _MODULES}
