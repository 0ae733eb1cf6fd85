"""France Travail (formerly Pôle emploi): job-seeker status and the payments it made, found by
the login the person chose for their online account."""

from broker.kit import Provider

from ._upstream import ERRORS
from .datasets import DATASETS

PROVIDER = Provider(name="france_travail", errors=ERRORS, datasets=tuple(DATASETS.values()))

__all__ = ["PROVIDER"]
