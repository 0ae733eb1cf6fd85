"""The France Travail upstream dialect, shared by both France Travail datasets.

``GET /v1/demandeurs/<ressource>?loginUsager=<identifiant>`` where ``ressource`` is
``situation`` or ``versements``. A found job seeker is answered 200 with the resource; an
unknown one 404 with ``{"codeErreur": "DEMANDEUR_INCONNU"}``. The worker and the simulator both
build the request with the endpoint's builder, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from broker.errors import BROKER, ProviderErrors
from broker.kit import (
    Endpoint,
    Envelope,
    ErrorCode,
    Params,
    Shape,
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


def seeker_endpoint(
    ressource: str, shape: Shape, data: type[BaseModel], *, record: str | None = None
) -> Endpoint[IdentifiantParams]:
    """The endpoint of one resource of a job seeker (``situation``...); every resource is
    asked and answered alike, its record under ``record`` or as the whole body."""
    path = f"v1/demandeurs/{ressource}"
    return Endpoint(
        request=lambda params: UpstreamRequest(
            "GET", path, query={"loginUsager": params.identifiant}
        ),
        shape=shape,
        data=data,
        errors={UNKNOWN_SEEKER: ERRORS.not_found},
        envelope=Envelope(record=record, error="codeErreur"),
    )
