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

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BeforeValidator, Field

from broker.datasets import ErrorCode, Params
from broker.dialect import Renaming, Shape
from broker.errors import BROKER, ProviderErrors

_BASE = ProviderErrors(label="SDH", number=41)
ERRORS = ProviderErrors(
    label="SDH",
    number=41,
    overrides={
        "timeout": replace(_BASE.timeout, code="37002"),
        "not_found": replace(
            _BASE.not_found,
            code="37003",
            detail=(
                "Aucun statut sportif n'a pu être trouvé avec les critères de recherche fournis."
            ),
        ),
        "unknown": replace(_BASE.unknown, code="37999"),
    },
)

UNKNOWN_ATHLETE = "SPORTIF_INCONNU"
REJECTED_IDENTIFIER = "IDENTIFIANT_INVALIDE"


def _identifier_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


class SdhParams(Params):
    """The athlete's identifier in the ministry's information system: digits only."""

    identifiant: Annotated[
        str,
        ErrorCode(BROKER.IDENTIFIER_MISSING),
        BeforeValidator(_identifier_text),
        Field(pattern=r"^\d{1,20}$"),
    ]


def path_of(identifiant: str) -> str:
    """The upstream path for an identifier (the simulator keys its cases on it too)."""
    return f"v2/sportifs/{quote(identifiant, safe='')}"


_FICHE: Shape = {
    "fiche": "numeroFiche",
    "periode": ("periode", {"date_debut_statut": "debut", "date_fin_statut": "fin"}),
    "federation": (
        "federation",
        {"code_federation": "code", "nom_federation": "libelle", "nom_court_federation": "sigle"},
    ),
    "etablissement": ("structure", {"code_etablissement": "code", "nom_etablissement": "libelle"}),
    "region": ("region", {"code_region": "code", "nom_region": "libelle"}),
    "categorie": (
        "categorie",
        {"code_categorie": "code", "nom_categorie": "libelle", "valeur": "valeur"},
    ),
    "sportif_de_haut_niveau": "hautNiveau",
}
RENAMING = Renaming(
    {
        "identite": (
            "sportif",
            {
                "nom_naissance": "nom",
                "nom_usage": "nomUsage",
                "prenoms": "prenom",
                "date_naissance": "dateNaissance",
                "sexe": "genre",
            },
        ),
        "est_sportif_de_haut_niveau": "estHautNiveau",
        "a_ete_sportif_de_haut_niveau": "aEteHautNiveau",
        "informations_statut": ("ficheEnCours", _FICHE),
        "informations_statuts_precedents": ("fichesAnterieures", _FICHE),
    }
)
