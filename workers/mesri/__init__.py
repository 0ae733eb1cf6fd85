"""MESRI (ministère de l'Enseignement supérieur et de la Recherche): students' admissions and
enrolments."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .datasets import DATASETS
from .simulator import build_simulator

PROVIDER = Provider(
    name="mesri",
    label="MESRI",
    errors=ERRORS,
    datasets=DATASETS,
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
