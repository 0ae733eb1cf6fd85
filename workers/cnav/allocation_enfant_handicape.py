"""``cnav.allocation_enfant_handicape``: a child's standing towards the AEEH (allocation
d'éducation de l'enfant handicapé); API Particulier's
``/v3/dss/allocation_enfant_handicape/identite``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ._benefits import benefit
from ._upstream import identity_params


class AllocationEnfantHandicapeData(BaseModel):
    model_config = ConfigDict(strict=True)

    status: Literal["allocataire", "ouvrant_droit", "non_beneficiaire"]
    """``allocataire``: the person receives it; ``ouvrant_droit``: the child it is paid for."""
    date_debut_droit: str | None = None


DATASET = benefit(
    "allocation_enfant_handicape",
    path="aeeh",
    title="Statut allocation d'éducation de l'enfant handicapé (AEEH)",
    shape={"status": "qualiteDroit", "date_debut_droit": "dateOuvertureDroit"},
    data=AllocationEnfantHandicapeData,
    scopes={"cnav_allocation_enfant_handicape": ("status", "date_debut_droit")},
    example_params=identity_params("DUPONT", ["PIERRE"], "M", "2015-03-12", "75112"),
)
