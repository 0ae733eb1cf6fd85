"""What the MESRI student register of higher education speaks.

``GET /v1/statut-etudiant`` with either ``?ine=<INE>`` or the identity
``?nom=&prenom=&dateNaissance=YYYY-MM-DD&sexe=1|2&communeNaissance=<COG>`` (absent fields left
out). A known student is answered 200 with ``{"etudiant": {...}, "inscriptions": [...]}``; a
failure carries ``{"anomalie": {"code", "libelle"}}`` with a 4xx status. The worker and the
simulator both build the query with :func:`query_of`, so that cases are keyed on exactly what
is sent.
"""

from __future__ import annotations

from typing import ClassVar

from broker.errors import ErrorSpec, ProviderErrors
from broker.kit import Envelope, IneOrCivility, UpstreamRequest

ERRORS = ProviderErrors(
    label="MESRI",
    number=25,
    not_found_detail="Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis.",
)

PATH = "v1/statut-etudiant"
IDENTITY_REJECTED = "IDENTITE_INVALIDE"

_SEX_CODES = {"M": "1", "F": "2"}


class StudentParams(IneOrCivility):
    """Either pivot: the INE alone (``/ine`` route), or the identity (``/identite`` route).

    Without an INE, the birth name, full birth date and sex are required; first names are not,
    as staging answers an identity given with a misspelt ``prenom`` (200), although the OpenAPI
    file marks them as required.
    """

    identity_required: ClassVar[tuple[str, ...]] = (
        "nomNaissance",
        "anneeDateNaissance",
        "moisDateNaissance",
        "jourDateNaissance",
        "sexeEtatCivil",
    )
    letters_only_names: ClassVar[bool] = True


BY_ANOMALY: dict[str, ErrorSpec] = {
    "ETUDIANT_INCONNU": ERRORS.not_found,
    **StudentParams.refusals(identity=IDENTITY_REJECTED, ine="INE_INVALIDE"),
}
"""Upstream ``anomalie.code`` -> what the broker answers."""


def query_of(params: StudentParams) -> dict[str, str]:
    """The upstream query for ``params``: the register takes one first name."""
    if params.ine is not None:
        return {"ine": params.ine}
    query = {
        "nom": params.nomNaissance,
        "prenom": params.prenoms[0] if params.prenoms else None,
        "dateNaissance": params.birth_date_text(),
        "sexe": _SEX_CODES.get(params.sexeEtatCivil or ""),
        "communeNaissance": params.codeCogInseeCommuneNaissance,
    }
    return {k: v for k, v in query.items() if v is not None}


def request_of(params: StudentParams) -> UpstreamRequest:
    return UpstreamRequest("GET", PATH, query=query_of(params))


ENVELOPE = Envelope(error="anomalie.code", strict=True)
