"""SDH (ministère des Sports): high-level athlete status, found by the athlete's identifier."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .simulator import build_simulator
from .statut_sportif import DATASET

PROVIDER = Provider(
    name="sdh",
    label="SDH",
    errors=ERRORS,
    datasets=(DATASET,),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
