"""CNOUS (Centre national des œuvres universitaires et scolaires): students' grants."""

from broker.kit import Provider

from ._upstream import ERRORS
from .etudiant_boursier import DATASETS

PROVIDER = Provider(name="cnous", errors=ERRORS, datasets=DATASETS)

__all__ = ["PROVIDER"]
