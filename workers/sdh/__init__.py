"""SDH (ministère des Sports): high-level athlete status, found by the athlete's identifier."""

from broker.kit import Provider

from ._upstream import ERRORS
from .statut_sportif import DATASET

PROVIDER = Provider(name="sdh", errors=ERRORS, datasets=(DATASET,))

__all__ = ["PROVIDER"]
