"""DGFIP (Direction générale des finances publiques): the income-tax notice of a household,
found by the tax number and notice reference printed on it."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .simulator import build_simulator
from .situation_fiscale import DATASET

PROVIDER = Provider(
    name="dgfip",
    label="DGFIP",
    errors=ERRORS,
    datasets=(DATASET,),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
