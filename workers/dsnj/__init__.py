"""DSNJ (Direction du service national et de la jeunesse): national service status."""

from broker.kit import Provider

from ._upstream import ERRORS
from .service_national import DATASET

PROVIDER = Provider(name="dsnj", errors=ERRORS, datasets=(DATASET,))

__all__ = ["PROVIDER"]
