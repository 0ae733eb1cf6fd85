"""MEN (ministère de l'Éducation nationale): pupils' schooling and grants."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .datasets import DATASETS
from .simulator import build_simulator

PROVIDER = Provider(
    name="men",
    label="MEN",
    errors=ERRORS,
    datasets=DATASETS,
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
