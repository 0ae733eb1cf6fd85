"""The CNAV upstream dialect, shared by every CNAV dataset.

``POST /v2/prestations/<prestation>/recherche`` with ``{"individu": {...}, "periode": {...}}``;
answers ``{"codeRetour": "00", "resultat": {...}}`` or an error body with another
``codeRetour``. The simulator and the worker both build requests with the endpoint that
:func:`prestation` declares, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.errors import BROKER, ErrorSpec, ProviderErrors
from broker.kit import Civility, Dataset, Declaration, Envelope, UpstreamRequest

OK = "00"
NOT_FOUND = "DOSSIER_ABSENT"
UNIDENTIFIABLE = "IDENTITE_NON_TRAITABLE"

_ABSENT = "Dossier allocataire absent"
ABSENT_FROM: dict[str, ErrorSpec] = {
    "DOSSIER_ABSENT_MSA": ErrorSpec(
        "10003",
        404,
        f"{_ABSENT} MSA",
        "Le dossier allocataire n'a pas été trouvé auprès de la MSA.",
        provider="MSA",
    ),
    "DOSSIER_ABSENT_CNAF": ErrorSpec(
        "23003",
        404,
        f"{_ABSENT} CNAF",
        "Le dossier allocataire n'a pas été trouvé auprès de la CNAF.",
        provider="CNAF",
    ),
    "ALLOCATAIRE_NON_REFERENCE": ErrorSpec(
        "35003",
        404,
        "Allocataire non référencé",
        "L'allocataire n'est pas référencé auprès des caisses éligibles",
        provider="CNAF & MSA",
    ),
}
"""The DSS's not-found, by the organism that lacks the file (upstream code -> answer), as API
Particulier's OpenAPI documents them for the benefit routes."""
ABSENT_FROM_RNCPS: dict[str, ErrorSpec] = {
    "DOSSIER_ABSENT_RNCPS": ErrorSpec(
        "40003",
        404,
        f"{_ABSENT} RNCPS",
        "Le dossier allocataire n'a pas été trouvé auprès du RNCPS.",
        provider="RNCPS",
    ),
}
"""The complementary health insurance's (C2S) not-found: the RNCPS lacks the file."""

ERRORS = ProviderErrors(
    label="CNAV", number=37, extra=(*ABSENT_FROM.values(), *ABSENT_FROM_RNCPS.values())
)

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
    absent_from: Mapping[str, ErrorSpec] = ABSENT_FROM,
) -> Dataset:
    """A CNAV dataset searched on the prestation segment ``path``; ``not_found`` answers when
    the DSS holds no file and does not say where it looked, ``absent_from`` when it names the
    organism lacking it."""
    return declaration.dataset(
        params=params,
        request=lambda civility: UpstreamRequest(
            "POST", path_of(path), body=request_body(civility)
        ),
        errors={NOT_FOUND: not_found, UNIDENTIFIABLE: BROKER.CIVILITY_INVALID, **absent_from},
        envelope=ENVELOPE,
    )
