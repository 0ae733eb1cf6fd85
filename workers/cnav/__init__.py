"""CNAV (Caisse nationale d'assurance vieillesse), through which API Particulier reaches the
CNAF and MSA data: family quotient and social benefits."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .datasets import DATASETS
from .simulator import build_simulator

PROVIDER = Provider(
    name="cnav",
    label="CNAV",
    errors=ERRORS,
    datasets=tuple(DATASETS.values()),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
