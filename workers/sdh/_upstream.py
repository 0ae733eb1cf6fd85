"""The SDH (Sportifs de haut niveau, ministère des Sports) upstream dialect.

``GET /v2/sportifs/<identifiant>``; answers 200 with the athlete's identity, current record
(``ficheEnCours``) and previous ones (``fichesAnterieures``), 404 ``SPORTIF_INCONNU``, or 400
``IDENTIFIANT_INVALIDE`` when SDH rejects the identifier. The worker and the simulator both build
the path with :func:`path_of`, so that cases are keyed on exactly what is sent.

Error codes: API Particulier's staging answers SDH's failures with CNAV's provider number
(``37002`` timeout, ``37003`` not found, ``37999`` unknown answer, all with ``meta.provider``
"SDH"), apparently a copy of CNAV's mocks, where the OpenAPI file documents ``41xxx``. The
conformance cases are authoritative, so those three subcodes answer as staging does; the
failures staging does not show (unavailable, rate limited) keep SDH's own number, ``41``. An
identifier SDH rejects is answered as staging does: ``00366`` without ``source``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from pydantic import BeforeValidator, Field

from broker.errors import BROKER, ProviderErrors
from broker.kit import ErrorCode, Params, identifier_text

ERRORS = ProviderErrors(
    label="SDH",
    number=41,
    overrides={
        "timeout": {"code": "37002"},
        "not_found": {
            "code": "37003",
            "detail": (
                "Aucun statut sportif n'a pu être trouvé avec les critères de recherche fournis."
            ),
        },
        "unknown": {"code": "37999"},
    },
)


class SdhParams(Params):
    """The athlete's identifier in the ministry's information system: digits only."""

    identifiant: Annotated[
        str,
        ErrorCode(BROKER.IDENTIFIER_MISSING),
        BeforeValidator(identifier_text),
        Field(pattern=r"^\d{1,20}$"),
    ]


def path_of(identifiant: str) -> str:
    """The upstream path for an identifier (the simulator keys its cases on it too)."""
    return f"v2/sportifs/{quote(identifiant, safe='')}"
