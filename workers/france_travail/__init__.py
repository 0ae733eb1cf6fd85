"""France Travail (formerly Pôle emploi): job-seeker status and the payments it made, found by
the login the person chose for their online account."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .datasets import DATASETS
from .simulator import build_simulator

PROVIDER = Provider(
    name="france_travail",
    label="France Travail",
    errors=ERRORS,
    datasets=tuple(DATASETS.values()),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
