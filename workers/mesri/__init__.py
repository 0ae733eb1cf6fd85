"""MESRI (ministère de l'Enseignement supérieur et de la Recherche): students' admissions and
enrolments."""

from broker.kit import Provider

from ._upstream import ERRORS
from .statut_etudiant import DATASETS

PROVIDER = Provider(name="mesri", errors=ERRORS, datasets=DATASETS)

__all__ = ["PROVIDER"]
