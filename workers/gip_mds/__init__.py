"""GIP-MDS (GIP Modernisation des déclarations sociales): civic-service contracts, from the
social declarations (DSN) of host organisations."""

from broker.kit import Provider

from ._upstream import ERRORS
from .service_civique import DATASET

PROVIDER = Provider(name="gip_mds", errors=ERRORS, datasets=(DATASET,))

__all__ = ["PROVIDER"]
