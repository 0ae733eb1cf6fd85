"""The France Travail upstream dialect, shared by both France Travail datasets.

``GET /v1/demandeurs/<ressource>?loginUsager=<identifiant>`` where ``ressource`` is
``situation`` or ``versements``. A found job seeker is answered 200 with the resource; an
unknown one 404 with ``{"codeErreur": "DEMANDEUR_INCONNU"}``. The worker and the simulator both
build the request with the endpoint's builder, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from broker.errors import BROKER, ProviderErrors
from broker.kit import (
    Dataset,
    Declaration,
    Envelope,
    ErrorCode,
    Params,
    UpstreamRequest,
    identifier_text,
)

ERRORS = ProviderErrors(
    label="France Travail",
    number=24,
    not_found_detail=(
        "Aucune situation France Travail n'a pu être trouvée avec les critères de "
        "recherche fournis."
    ),
)

UNKNOWN_SEEKER = "DEMANDEUR_INCONNU"


class IdentifiantParams(Params):
    """The login the person chose for their France Travail online account."""

    identifiant: Annotated[
        str,
        ErrorCode(BROKER.IDENTIFIER_MISSING),
        BeforeValidator(identifier_text),
        Field(min_length=1, max_length=100),
    ]


def seeker_dataset(
    declaration: Declaration, ressource: str, *, under: str | None = None
) -> Dataset:
    """The dataset of one resource of a job seeker (``situation``...); every resource is
    asked and answered alike, its record under the key ``under`` or as the whole body."""
    path = f"v1/demandeurs/{ressource}"
    return declaration.dataset(
        params=IdentifiantParams,
        request=lambda params: UpstreamRequest(
            "GET", path, query={"loginUsager": params.identifiant}
        ),
        errors={UNKNOWN_SEEKER: ERRORS.not_found},
        envelope=Envelope(record=under, error="codeErreur"),
    )
