"""``cnav.complementaire_sante_solidaire``: whether a person is covered by the C2S
(complémentaire santé solidaire), and with a financial contribution; API Particulier's
``/v3/dss/complementaire_sante_solidaire/identite``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ._benefits import benefit, right_shape
from ._upstream import identity_params


class ComplementaireSanteSolidaireData(BaseModel):
    model_config = ConfigDict(strict=True)

    est_beneficiaire: bool
    avec_participation: bool | None = None
    date_debut_droit: str | None = None


DATASET = benefit(
    "complementaire_sante_solidaire",
    path="c2s",
    title="Statut complémentaire santé solidaire (C2S)",
    shape=right_shape(avec_participation="participationFinanciere"),
    data=ComplementaireSanteSolidaireData,
    scopes={
        "complementaire_sante_solidaire": (
            "est_beneficiaire",
            "avec_participation",
            "date_debut_droit",
        ),
    },
    example_params=identity_params("MARTIN", ["PIERRE"], "M", "1987-06-12", "13055"),
)
