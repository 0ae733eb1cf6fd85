"""The DGFIP upstream dialect: the income-tax situation of a tax household ("situation IR").

``POST /impotparticulier/v1/situations-ir/recherche`` with ``{"spi", "referenceAvis"}``;
answers 200 ``{"situationIr": {...}}`` in DGFIP's short field names (``rfr``, ``sitFam``,
``nbPart``, ``dec1``...), 404 ``{"code": "AVIS_INCONNU"}`` when no notice matches the pair, or
400 with ``SPI_INVALIDE`` / ``REFERENCE_AVIS_INVALIDE`` when DGFIP rejects an identifier. The
worker and the simulator both build the request with :func:`request_of`, so that cases are
keyed on exactly what is sent.

API Particulier's parameter codes for this dataset, ``00370`` (numéro fiscal) and ``00371``
(référence d'avis), live in the broker's catalogue.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from broker.errors import BROKER, ProviderErrors
from broker.kit import Envelope, ErrorCode, Params, UpstreamRequest

ERRORS = ProviderErrors(label="DGFIP", number=27)

TAX_NUMBER_INVALID = BROKER.TAX_NUMBER_INVALID
TAX_NOTICE_INVALID = BROKER.TAX_NOTICE_INVALID

PATH = "impotparticulier/v1/situations-ir/recherche"


def _compact(value: Any) -> Any:
    """Notices print both identifiers in groups separated by spaces; the groups are joined."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "".join(value.split()).upper() if isinstance(value, str) else value


class SituationFiscaleParams(Params):
    """The two identifiers printed on an income-tax notice."""

    numeroFiscal: Annotated[
        str, ErrorCode(TAX_NUMBER_INVALID), BeforeValidator(_compact), Field(pattern=r"^\d{13}$")
    ]
    referenceAvis: Annotated[
        str,
        ErrorCode(TAX_NOTICE_INVALID),
        BeforeValidator(_compact),
        Field(pattern=r"^[0-9A-Z]{13,14}$"),
    ]


def request_of(params: SituationFiscaleParams) -> UpstreamRequest:
    """The upstream request for ``params`` (the simulator keys its cases on it too)."""
    return UpstreamRequest(
        "POST", PATH, body={"spi": params.numeroFiscal, "referenceAvis": params.referenceAvis}
    )


ENVELOPE = Envelope(record="situationIr")
