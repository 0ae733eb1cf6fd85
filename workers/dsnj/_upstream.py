"""The DSNJ (Direction du service national et de la jeunesse) upstream dialect.

``POST /api/v1/jeunes/situation`` with ``{"jeune": {...état civil...}}``; answers 200
``{"situationServiceNational": {"statut": ..., "commentaire": ...}}``, 404 or 403 with
``{"erreur": {"code": ...}}``. The worker and the simulator both build the body with
:func:`request_of`, so that cases are keyed on exactly what is sent.

DSNJ's staging answers use subcodes and titles of their own, which differ from API
Particulier's defaults and are authoritative here: ``39001`` 403 "Accès refusé" (the partner is
not allowed), ``39002`` 502 "Erreur serveur" (DSNJ unavailable), ``39004`` 429 "Quota dépassé",
``39005`` 504 "Temps d'attente dépassé".
"""

from __future__ import annotations

from typing import ClassVar

from broker.errors import UNKNOWN_PARAMETERS_DETAIL, ErrorSpec, ProviderErrors
from broker.kit import Civility, Envelope, UpstreamRequest

ACCESS_DENIED = ErrorSpec(
    "39001", 403, "Accès refusé", "Le SIRET n'est pas autorisé à accéder à l'API", provider="DSNJ"
)
SERVER_ERROR = {
    "code": "39002",
    "status": 502,
    "title": "Erreur serveur",
    "detail": "Une erreur est survenue lors de la connexion au service distant.",
}
"""DSNJ's own answer when it cannot be reached: also its answer to a DNS failure, since its
``39004`` is the quota."""
ERRORS = ProviderErrors(
    label="DSNJ",
    number=39,
    overrides={
        "unavailable": SERVER_ERROR,
        "dns": SERVER_ERROR,
        "timeout": {
            "code": "39005",
            "title": "Temps d'attente dépassé",
            "detail": "Le service distant n'a pas répondu dans le temps imparti.",
        },
        "rate_limited": {
            "code": "39004",
            "title": "Quota dépassé",
            "detail": (
                "Le quota de requêtes autorisées a été dépassé. Veuillez réessayer plus tard."
            ),
        },
        "not_found": {"detail": UNKNOWN_PARAMETERS_DETAIL},
    },
    extra=(ACCESS_DENIED,),
)

PATH = "api/v1/jeunes/situation"


class DsnjCivility(Civility):
    """DSNJ needs the full identity: names, full birth date, sex and birthplace."""

    required: ClassVar[frozenset[str]] = frozenset(
        {
            "nomNaissance",
            "prenoms",
            "anneeDateNaissance",
            "moisDateNaissance",
            "jourDateNaissance",
            "sexeEtatCivil",
            "codeCogInseePaysNaissance",
        }
    )
    sex_missing_code: ClassVar[bool] = True


def request_of(params: DsnjCivility) -> UpstreamRequest:
    """The upstream request for ``params`` (the simulator keys its cases on it too)."""
    jeune = {
        "nomNaissance": params.nomNaissance,
        "nomUsage": params.nomUsage,
        "prenoms": list(params.prenoms or []),
        "sexe": params.sexeEtatCivil,
        "dateNaissance": params.birth_date_text(),
        "lieuNaissance": {
            "codeCommune": params.codeCogInseeCommuneNaissance,
            "codePays": params.codeCogInseePaysNaissance,
        },
    }
    return UpstreamRequest("POST", PATH, body={"jeune": jeune})


ENVELOPE = Envelope(record="situationServiceNational", error="erreur.code")
