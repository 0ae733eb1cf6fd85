"""ANTS (Agence nationale des titres sécurisés): vehicle registration extracts, from the SIV."""

from broker.kit import Provider

from ._upstream import ERRORS
from .extrait_immatriculation_vehicule import DATASET

PROVIDER = Provider(name="ants", errors=ERRORS, datasets=(DATASET,))

__all__ = ["PROVIDER"]
