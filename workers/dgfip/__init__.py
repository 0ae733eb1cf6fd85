"""DGFIP (Direction générale des finances publiques): the income-tax notice of a household,
found by the tax number and notice reference printed on it."""

from broker.kit import Provider

from ._upstream import ERRORS
from .situation_fiscale import DATASET

PROVIDER = Provider(name="dgfip", errors=ERRORS, datasets=(DATASET,))

__all__ = ["PROVIDER"]
