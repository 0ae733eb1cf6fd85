"""The CNAV upstream dialect, shared by every CNAV dataset.

``POST /v2/prestations/<prestation>/recherche`` with ``{"individu": {...}, "periode": {...}}``;
answers ``{"codeRetour": "00", "resultat": {...}}`` or an error body with another
``codeRetour``. The simulator and the worker both build requests with the endpoint that
:func:`prestation` declares, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from typing import Any

from broker.errors import BROKER, ErrorSpec, ProviderErrors
from broker.kit import Civility, Dataset, Declaration, Envelope, UpstreamRequest

ERRORS = ProviderErrors(label="CNAV", number=37)

OK = "00"
NOT_FOUND = "DOSSIER_ABSENT"
UNIDENTIFIABLE = "IDENTITE_NON_TRAITABLE"

"""France's COG code, as a birth country."""

ENVELOPE = Envelope(record="resultat", error="codeRetour", ok=OK)
"""A success is a 200 whose ``codeRetour`` is ``00``; any other code is looked up, whatever
the status."""


class CnavCivility(Civility):
    """CNAV finds a beneficiary with few fields: first names and birth date are optional."""


def path_of(prestation: str) -> str:
    """The upstream path of a prestation segment (``qf``, ``rsa``...)."""
    return f"v2/prestations/{prestation}/recherche"


def request_body(params: Civility) -> dict[str, Any]:
    """The upstream request body for ``params``."""
    body: dict[str, Any] = {
        "individu": {
            "nomNaissance": params.nomNaissance,
            "nomUsage": params.nomUsage,
            "prenoms": " ".join(params.prenoms) if params.prenoms else None,
            "sexe": params.sexeEtatCivil,
            "dateNaissance": params.birth_date_text(),
            "lieuNaissance": {
                "commune": params.codeCogInseeCommuneNaissance,
                "pays": params.codeCogInseePaysNaissance,
            },
        }
    }
    periode = {k: getattr(params, k) for k in ("annee", "mois") if getattr(params, k, None)}
    if periode:
        body["periode"] = periode
    return body


def prestation(
    declaration: Declaration,
    *,
    path: str,
    params: type[CnavCivility],
    not_found: ErrorSpec = ERRORS.not_found,
) -> Dataset:
    """A CNAV dataset searched on the prestation segment ``path``; ``not_found`` answers when
    the CNAV holds no file."""
    return declaration.dataset(
        params=params,
        request=lambda civility: UpstreamRequest(
            "POST", path_of(path), body=request_body(civility)
        ),
        errors={NOT_FOUND: not_found, UNIDENTIFIABLE: BROKER.CIVILITY_INVALID},
        envelope=ENVELOPE,
    )
