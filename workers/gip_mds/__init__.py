"""GIP-MDS (GIP Modernisation des déclarations sociales): civic-service contracts, from the
social declarations (DSN) of host organisations."""

from broker.datasets import Provider

from ._dialect import ERRORS
from .service_civique import DATASET
from .simulator import build_simulator

PROVIDER = Provider(
    name="gip_mds",
    label="GIP-MDS",
    errors=ERRORS,
    datasets=(DATASET,),
    simulator=build_simulator,
)

__all__ = ["PROVIDER"]
