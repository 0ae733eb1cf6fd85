"""DSNJ (Direction du service national et de la jeunesse): national service status."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .service_national import DATASET
from .simulator import build_simulator

PROVIDER = Provider(
    name="dsnj",
    label="DSNJ",
    errors=ERRORS,
    datasets=(DATASET,),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
