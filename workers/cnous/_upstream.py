"""What the CNOUS scholarship register speaks.

The register answers under one API version per shape: ``v1`` (API Particulier v3,
``est_boursier`` only) and ``v2`` (API Particulier v4, with the withdrawal status):

- ``GET /<api>/etudiants/<ine>``: a student by INE;
- ``POST /<api>/etudiants/recherche`` with ``{"nomFamille", "prenoms": "A, B", "dateNaissance",
  "lieuNaissance", "civilite"}``: a student by identity.

A found student is answered 200 with the record; failures carry ``{"erreur": <code>, "message"}``
with a 4xx status. The worker and the simulator both build requests with :func:`request_of`, so
that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from typing import ClassVar

from broker.errors import ErrorSpec, ProviderErrors
from broker.kit import Envelope, IneOrCivility, UpstreamRequest, VersionedUpstream

ERRORS = ProviderErrors(
    label="CNOUS",
    number=26,
    not_found_detail=(
        "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis."
    ),
)

IDENTITY_REJECTED = "IDENTITE_INVALIDE"

APIS: dict[int, str] = {3: "v1", 4: "v2"}
"""Dataset version -> the register's API version serving it."""


ENVELOPE = Envelope(error="erreur", strict=True)


class StudentParams(IneOrCivility):
    """Either pivot: the INE alone (``/ine`` route), or the identity (``/identite`` route).

    Without an INE, only ``nomNaissance`` is required: staging answers identities with the birth
    name alone (404), although the OpenAPI file marks first names and birth date as required.
    """

    identity_required: ClassVar[tuple[str, ...]] = ("nomNaissance",)
    letters_only_names: ClassVar[bool] = True


BY_ERROR: dict[str, ErrorSpec] = {
    "ETUDIANT_NON_TROUVE": ERRORS.not_found,
    **StudentParams.refusals(identity=IDENTITY_REJECTED, ine="INE_INVALIDE"),
}
"""Upstream ``erreur`` -> what the broker answers."""


def request_of(api: str, params: StudentParams) -> UpstreamRequest:
    """The upstream request for ``params`` on API version ``api`` (``v1`` or ``v2``)."""
    if params.ine is not None:
        return UpstreamRequest("GET", f"{api}/etudiants/{params.ine}")
    body = {
        "nomFamille": params.nomNaissance,
        "prenoms": ", ".join(params.prenoms) if params.prenoms else None,
        "dateNaissance": params.birth_date_text(),
        "lieuNaissance": params.codeCogInseeCommuneNaissance,
        "civilite": params.sexeEtatCivil,
    }
    sent = {k: v for k, v in body.items() if v is not None}
    return UpstreamRequest("POST", f"{api}/etudiants/recherche", body=sent)


REGISTER = VersionedUpstream(APIS, request_of, BY_ERROR, ENVELOPE)
"""The register: each dataset version asked through its own API version."""
