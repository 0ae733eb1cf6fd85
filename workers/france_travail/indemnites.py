"""``france_travail.indemnites``: the payments France Travail made to a person, API
Particulier's ``/v3/france_travail/indemnites/identifiant``."""

from __future__ import annotations

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint, Shape

from ._upstream import IdentifiantParams, seeker_endpoint


class Paiement(BaseModel):
    date_versement: str | None = None
    montant_total: float | None = None
    montant_allocations: float | None = None
    montant_aides: float | None = None
    montant_autres: float | None = None


class IndemnitesData(BaseModel):
    identifiant: str
    paiements: list[Paiement]


SHAPE: Shape = {
    "identifiant": "loginUsager",
    "paiements": (
        "versements",
        {
            "date_versement": "dateVersement",
            "montant_total": "montantTotal",
            "montant_allocations": "montantAllocations",
            "montant_aides": "montantAides",
            "montant_autres": "montantAutres",
        },
    ),
}
ENDPOINT: Endpoint[IdentifiantParams] = seeker_endpoint("versements", SHAPE, IndemnitesData)

DATASET = Dataset(
    id="france_travail.indemnites",
    version=3,
    route="/v3/france_travail/indemnites/identifiant",
    title="Paiements versés par France Travail",
    params=IdentifiantParams,
    scopes={"pole_emploi_paiements": ("identifiant", "paiements")},
    endpoint=ENDPOINT,
    example_params={"identifiant": "default"},
)
