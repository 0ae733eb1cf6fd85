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

from broker.kit import Endpoint, declared

from ._upstream import (
    ENVELOPE,
    ERRORS,
    TAX_NOTICE_INVALID,
    TAX_NUMBER_INVALID,
    SituationFiscaleParams,
    request_of,
)

DATASET = declared(__package__, "situation_fiscale.v3.json").dataset(
    params=SituationFiscaleParams,
    request=request_of,
    errors={
        "AVIS_INCONNU": ERRORS.not_found,
        "SPI_INVALIDE": (TAX_NUMBER_INVALID, "numeroFiscal"),
        "REFERENCE_AVIS_INVALIDE": (TAX_NOTICE_INVALID, "referenceAvis"),
    },
    envelope=ENVELOPE,
)
ENDPOINT: Endpoint[SituationFiscaleParams] = DATASET.endpoint
