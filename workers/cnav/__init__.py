"""CNAV (Caisse nationale d'assurance vieillesse), through which API Particulier reaches the
CNAF and MSA data: family quotient and social benefits."""

from broker.kit import Provider

from ._upstream import ERRORS
from .datasets import DATASETS

PROVIDER = Provider(name="cnav", errors=ERRORS, datasets=tuple(DATASETS.values()))

__all__ = ["PROVIDER"]
