"""The GIP-MDS (GIP Modernisation des déclarations sociales) upstream dialect.

``POST /rest/v2/volontaires/recherche`` with ``{"nomFamille", "prenoms", "dateNaissance"}``;
answers 200 ``{"individus": [...]}``, one entry per person matching the identity, each with
its current and previous civic-service contracts. No match means not found; several mean the
identity is ambiguous (API Particulier's ``00391``). The worker and the simulator both build the
body with :func:`request_of`, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from broker.errors import BROKER, UNKNOWN_PARAMETERS_DETAIL, ProblemError, ProviderErrors
from broker.kit import Answer, Civility, Endpoint, Envelope, UpstreamCall, UpstreamRequest

PATH = "rest/v2/volontaires/recherche"

ERRORS = ProviderErrors(
    label="GIP-MDS",
    number=31,
    not_found_detail=UNKNOWN_PARAMETERS_DETAIL,
)

AMBIGUOUS_DETAIL = (
    "Les paramètres d'identité correspondent à plusieurs personnes. Nous ne pouvons pas fournir "
    "les informations de service civique pour cet individu."
)


class GipMdsCivility(Civility):
    """GIP-MDS finds a volunteer by names and full birth date; sex and birthplace are unused."""

    required: ClassVar[frozenset[str]] = frozenset(
        {"nomNaissance", "prenoms", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance"}
    )
    requires_birthplace_in_france: ClassVar[bool] = False


def request_of(params: GipMdsCivility) -> UpstreamRequest:
    """The upstream request for ``params`` (the simulator keys its cases on it too)."""
    body = {
        "nomFamille": params.nomNaissance,
        "prenoms": list(params.prenoms or []),
        "dateNaissance": params.birth_date_text(),
    }
    return UpstreamRequest("POST", PATH, body=body)


class MatchingIndividuals(Endpoint[GipMdsCivility]):
    """GIP-MDS answers every individual matching the identity: the record is the only one."""

    def decode(self, call: UpstreamCall, record: Any) -> dict[str, Any]:
        if not isinstance(record, list):
            raise call.invalid()
        if not record:
            raise ProblemError(ERRORS.not_found)
        if len(record) > 1:
            raise ProblemError(BROKER.AMBIGUOUS_IDENTITY, detail=AMBIGUOUS_DETAIL)
        return super().decode(call, record[0])

    def success(self, data: Mapping[str, Any]) -> Answer:
        return 200, self.envelope.wrap([self.renaming.encode(data)])


ENVELOPE = Envelope(record="individus", error="anomalie")
