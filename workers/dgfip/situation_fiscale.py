"""``dgfip.situation_fiscale``: the income-tax notice of a tax household, found by the tax
number (numéro fiscal, 13 digits) and the notice reference (référence d'avis, 13 or 14
characters) printed on it.

API Particulier served it as ``/api/v2/avis-imposition`` (``impots/svair`` before) and dropped
it in 2024, before its v3; this dataset keeps that dataset's content with v3-style snake_case
names (``revenuFiscalReference`` -> ``revenu_fiscal_reference``...), ISO dates, years as
integers, and ``declarant2`` null for a single declarant.

Scopes keep the names API Particulier's habilitations used for this dataset, so that an agency's
existing habilitation reads unchanged; each unmasks one field:

- ``dgfip_declarant1_nom``, ``dgfip_declarant1_nom_naissance``, ``dgfip_declarant1_prenoms``,
  ``dgfip_declarant1_date_naissance``: ``declarant1.nom``, ``.nom_naissance``, ``.prenoms``,
  ``.date_naissance``; the same four ``dgfip_declarant2_*`` for ``declarant2``;
- ``dgfip_date_recouvrement``, ``dgfip_date_etablissement``: the notice's dates;
- ``dgfip_adresse_fiscale_taxation``, ``dgfip_adresse_fiscale_annee``: ``foyer_fiscal.adresse``
  and ``foyer_fiscal.annee``;
- ``dgfip_nombre_parts``, ``dgfip_nombre_personnes_a_charge``, ``dgfip_situation_familiale``;
- ``dgfip_revenu_brut_global``, ``dgfip_revenu_imposable``,
  ``dgfip_impot_revenu_net_avant_corrections``, ``dgfip_montant_impot``,
  ``dgfip_revenu_fiscal_reference``;
- ``dgfip_annee_impot``, ``dgfip_annee_revenus``, ``dgfip_situation_partielle``.
"""

from __future__ import annotations

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint

from ._upstream import (
    ENVELOPE,
    ERRORS,
    NOTICE_UNKNOWN,
    REFERENCE_REJECTED,
    SHAPE,
    SPI_REJECTED,
    TAX_NOTICE_INVALID,
    TAX_NUMBER_INVALID,
    SituationFiscaleParams,
    request_of,
)


class Declarant(BaseModel):
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: str | None = None
    date_naissance: str | None = None


class FoyerFiscal(BaseModel):
    annee: int | None = None
    adresse: str | None = None


class SituationFiscaleData(BaseModel):
    declarant1: Declarant | None = None
    declarant2: Declarant | None = None
    date_recouvrement: str | None = None
    date_etablissement: str | None = None
    nombre_parts: float | None = None
    situation_famille: str | None = None
    nombre_personnes_a_charge: int | None = None
    revenu_brut_global: int | None = None
    revenu_imposable: int | None = None
    impot_revenu_net_avant_corrections: int | None = None
    montant_impot: int | None = None
    """``None`` when the household owes no tax ("non imposable")."""
    revenu_fiscal_reference: int | None = None
    annee_impots: int | None = None
    annee_revenus: int | None = None
    situation_partielle: str | None = None
    foyer_fiscal: FoyerFiscal | None = None


ENDPOINT: Endpoint[SituationFiscaleParams] = Endpoint(
    request=request_of,
    shape=SHAPE,
    data=SituationFiscaleData,
    errors={
        NOTICE_UNKNOWN: ERRORS.not_found,
        SPI_REJECTED: (TAX_NUMBER_INVALID, "numeroFiscal"),
        REFERENCE_REJECTED: (TAX_NOTICE_INVALID, "referenceAvis"),
    },
    envelope=ENVELOPE,
)


DATASET = Dataset(
    id="dgfip.situation_fiscale",
    version=3,
    route="/api/v2/avis-imposition",
    title="Situation fiscale (avis d'impôt sur le revenu)",
    params=SituationFiscaleParams,
    scopes={
        **{
            f"dgfip_{declarant}_{field}": (f"{declarant}.{field}",)
            for declarant in ("declarant1", "declarant2")
            for field in ("nom", "nom_naissance", "prenoms", "date_naissance")
        },
        "dgfip_date_recouvrement": ("date_recouvrement",),
        "dgfip_date_etablissement": ("date_etablissement",),
        "dgfip_adresse_fiscale_taxation": ("foyer_fiscal.adresse",),
        "dgfip_adresse_fiscale_annee": ("foyer_fiscal.annee",),
        "dgfip_nombre_parts": ("nombre_parts",),
        "dgfip_nombre_personnes_a_charge": ("nombre_personnes_a_charge",),
        "dgfip_situation_familiale": ("situation_famille",),
        "dgfip_revenu_brut_global": ("revenu_brut_global",),
        "dgfip_revenu_imposable": ("revenu_imposable",),
        "dgfip_impot_revenu_net_avant_corrections": ("impot_revenu_net_avant_corrections",),
        "dgfip_montant_impot": ("montant_impot",),
        "dgfip_revenu_fiscal_reference": ("revenu_fiscal_reference",),
        "dgfip_annee_impot": ("annee_impots",),
        "dgfip_annee_revenus": ("annee_revenus",),
        "dgfip_situation_partielle": ("situation_partielle",),
    },
    endpoint=ENDPOINT,
    example_params={"numeroFiscal": "1456789012345", "referenceAvis": "2423A56789012"},
)
