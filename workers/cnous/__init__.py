"""CNOUS (Centre national des œuvres universitaires et scolaires): students' grants."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .datasets import DATASETS
from .simulator import build_simulator

PROVIDER = Provider(
    name="cnous",
    label="CNOUS",
    errors=ERRORS,
    datasets=DATASETS,
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
