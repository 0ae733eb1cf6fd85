"""MEN (ministère de l'Éducation nationale): pupils' schooling and grants."""

from broker.kit import Provider

from ._upstream import ERRORS
from .scolarites import DATASETS

PROVIDER = Provider(name="men", errors=ERRORS, datasets=DATASETS)

__all__ = ["PROVIDER"]
