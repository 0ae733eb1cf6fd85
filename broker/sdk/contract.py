"""The public message contract: what a back-office publishes and what it receives.

These models are the single source of the JSON Schemas and the AsyncAPI document in
``schemas/``. Dataset-specific ``params`` and ``data`` models live with each provider.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from ._canonical import canonical
from ._reasons import CertificationError

__all__ = [
    "BROKER_QUEUES",
    "CACHE_CONTROL_HEADER",
    "DEADLINE_HEADER",
    "DEAD_EXCHANGE",
    "DEAD_QUEUE",
    "EXCHANGE",
    "PING",
    "REASON_HEADER",
    "REPLY_QUEUE_PREFIX",
    "REQUESTER_HEADER",
    "RIGHTS",
    "DeadReason",
    "ErrorObject",
    "IdentityMatching",
    "Lane",
    "Mode",
    "ReplyBody",
    "ReplyMeta",
    "RequestBody",
    "RequestProperties",
    "own_reply_queue",
    "ping_dataset",
    "reply_queue",
    "routing_key",
]

EXCHANGE = "particulier.requests"
DEAD_EXCHANGE = "particulier.dead"
DEAD_QUEUE = "particulier.dead"
DEADLINE_HEADER = "x-deadline"
"""Header holding the requester's deadline, in milliseconds since the Unix epoch."""
CACHE_CONTROL_HEADER = "cache-control"
"""Header of a request: ``no-cache`` asks the provider even when the reply cache holds an
answer (and refreshes it), as HTTP's ``Cache-Control: no-cache`` does."""
REQUESTER_HEADER = "x-requester"
"""Header of a dead letter: the request's ``user_id``, which a replay must restore (a worker
cannot publish under another user's ``user_id``)."""
REASON_HEADER = "x-dead-reason"
"""Header of a dead letter: why it could not be answered (a code, never personal data)."""
REPLY_QUEUE_PREFIX = "reply."
"""Reply queues are named ``reply.<user_id>.<anything>``: RabbitMQ lets an agency read only
queues under its own prefix, and a worker publishes a reply nowhere else."""
MAX_QUEUE_NAME = 255
"""AMQP 0-9-1's limit on a queue name, in bytes."""


class DeadReason(StrEnum):
    """Why a worker dead-lettered a request (header ``x-dead-reason``, metric label)."""

    NO_REPLY_TO = "no-reply-to"
    """The request names no reply queue: nobody to answer."""
    REPLY_TO_REFUSED = "reply-to-refused"
    """``reply_to`` is not a queue of the requester's own (``reply.<user_id>.``): publishing
    there would hand the reply to someone else."""
    REPLY_UNROUTABLE = "reply-unroutable"
    """The requester's reply queue no longer exists: the client went away."""
    JOURNAL_REFUSED = "journal-refused"
    """PostgreSQL refused the journal row for its content; no reply leaves without its row."""
    DEADLINE_EXCEEDED = "deadline-exceeded"
    """The worker's last-resort bound ended the request before it could be answered."""
    INTERNAL_FAILURE = "internal-failure"
    """A step failed in a way that left no reply to send (a bug: see the worker's log)."""


def reply_queue(requester: str, name: str) -> str:
    """The reply queue ``name`` of ``requester``: ``reply.<user_id>.<name>``."""
    return f"{REPLY_QUEUE_PREFIX}{requester}.{name}"


def own_reply_queue(requester: str | None, reply_to: str | None) -> bool:
    """True when ``reply_to`` names a queue under the requester's own prefix.

    The worker publishes with its own rights, which reach every queue: this check is what
    keeps it from relaying a reply where RabbitMQ's permissions would refuse the requester.
    """
    if not requester or not reply_to:
        return False
    prefix = reply_queue(requester, "")
    return (
        reply_to.startswith(prefix)
        and len(reply_to) > len(prefix)
        and len(reply_to.encode()) <= MAX_QUEUE_NAME
    )


class Lane(StrEnum):
    """Traffic class: a person waits (``interactive``), or a nightly run (``bulk``)."""

    INTERACTIVE = "interactive"
    BULK = "bulk"


class Mode(StrEnum):
    """How a request names the person: by identity (or the provider's identifier), or by the
    citizen's FranceConnect access token."""

    IDENTITY = "identity"
    FRANCE_CONNECT = "france_connect"


BROKER_QUEUES = "broker"
"""The lane queues of what the broker answers itself, whatever the provider
(``particulier.broker.<lane>``): every worker consumes them."""
RIGHTS = f"{BROKER_QUEUES}.rights"
"""The dataset id of the rights look-up: what the requester's habilitations (an editor's:
its delegations) grant now, as API Particulier's ``/api/introspect`` says."""

PING = "ping"
"""The dataset name of a provider's ping (``cnav.ping``): its health as the worker sees it,
asked like any request, by any requester, disclosing nobody's data."""


def ping_dataset(provider: str) -> str:
    return f"{provider}.{PING}"


def routing_key(lane: Lane | str, dataset: str) -> str:
    """``<lane>.<provider>.<dataset>``, e.g. ``interactive.cnav.quotient_familial``."""
    return f"{Lane(lane).value}.{dataset}"


class RequestProperties(BaseModel):
    """The AMQP properties of a request, and its deadline header: what the SDK sets and the
    worker reads (the AsyncAPI message headers derive from this model)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, title="Request properties")

    message_id: str = Field(description="Unique per request; idempotency key.")
    correlation_id: str = Field(description="Copied onto the reply.")
    reply_to: str = Field(
        description="The requester's reply queue (an agency may only use queues named "
        "reply.<its RabbitMQ user>.*)."
    )
    user_id: str = Field(
        description="The publisher's RabbitMQ login; RabbitMQ rejects any other value."
    )
    content_type: Literal["application/json"] = Field(description="The body's media type.")
    type: str = Field(description="The dataset id.")
    deadline: Annotated[
        int | None,
        WithJsonSchema(
            {
                "type": "integer",
                "description": "Header: deadline in milliseconds since the Unix epoch. A "
                "request found past it is answered 504 00803 without calling the provider.",
            }
        ),
    ] = Field(default=None, alias=DEADLINE_HEADER)
    cache_control: Annotated[
        Literal["no-cache"] | None,
        WithJsonSchema(
            {
                "type": "string",
                "enum": ["no-cache"],
                "description": "Header: ``no-cache`` asks the provider even when the reply "
                "cache holds an answer, and refreshes the cache.",
            }
        ),
    ] = Field(default=None, alias=CACHE_CONTROL_HEADER)

    def message_fields(self) -> dict[str, Any]:
        """The keyword arguments of an AMQP message carrying these properties."""
        fields = self.model_dump(exclude={"deadline", "cache_control"})
        headers: dict[str, Any] = {}
        if self.deadline is not None:
            headers[DEADLINE_HEADER] = self.deadline
        if self.cache_control is not None:
            headers[CACHE_CONTROL_HEADER] = self.cache_control
        fields["headers"] = headers
        return fields


IJSON_MAX_INT = 2**53 - 1
"""The largest integer I-JSON (RFC 7493) carries exactly: what the request hash can sign."""


class RequestBody(BaseModel):
    """Body of a verification request (``content_type: application/json``)."""

    model_config = ConfigDict(extra="forbid", title="Request")

    dataset: str = Field(
        description="Dataset id, ``<provider>.<dataset>``.",
        examples=["cnav.quotient_familial"],
        pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$",
    )
    recipient: str | None = Field(
        default=None,
        description="SIRET of the public body that receives the data (API Particulier's "
        "``recipient``).",
        examples=["13002526500013"],
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The dataset's parameters, named as API Particulier v3 names them.",
        examples=[{"nomNaissance": "ROUX", "prenoms": ["JEANNE"], "sexeEtatCivil": "F"}],
    )
    version: int | None = Field(
        default=None,
        ge=1,
        le=IJSON_MAX_INT,
        description="Version of the dataset's shape (3 or 4 where API Particulier has both); "
        "the newest when absent.",
    )
    france_connect_token: str | None = Field(
        default=None,
        repr=False,
        min_length=1,
        max_length=4096,
        description="FranceConnect mode: the citizen's FranceConnect access token, instead of "
        "the identity in ``params`` (which then holds only the dataset's own parameters, e.g. "
        "``annee``/``mois``). A credential: never logged, journaled or echoed.",
    )

    on_behalf_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="An editor's request: the agency it acts for (its name, or its SIRET), "
        "which a delegation must link to the editor. The agency's habilitations and rate "
        "limits apply; the journal records both.",
        examples=["Mairie de Lyon"],
    )
    agent: str | None = Field(
        default=None,
        repr=False,
        min_length=1,
        max_length=255,
        description="The agent at the counter (API Particulier's planned ``X-Agent-Id``), an "
        "identifier of the agency's own: the journal keeps only its keyed hash, shown as "
        '"an agent of <agency>".',
    )

    @field_validator("params")
    @classmethod
    def _signable(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters the request hash can cover (I-JSON: integers within ±2^53): a reply is
        signed over its request, so a request that cannot be hashed is unreadable."""
        try:
            canonical(params)
        except CertificationError:
            raise ValueError("params must be I-JSON (integers within ±2^53)") from None
        return params


class ErrorObject(BaseModel):
    """API Particulier's error object."""

    model_config = ConfigDict(title="Error")

    code: str = Field(pattern=r"^\d{5}$", description="Provider number (2 digits) + subcode.")
    title: str
    detail: str
    source: dict[str, str] | None = Field(
        default=None, description="``{'parameter': name}`` when one parameter is at fault."
    )
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="``provider`` (the data provider's label) and ``retry_in`` (seconds) "
        "when retrying helps.",
    )


class IdentityMatching(BaseModel):
    """How the citizen's FranceConnect identity compares with the person the provider's record
    names (ANTS): each score from 0 to 1; ``overall_match`` on family name and a first name,
    the birth date being informative."""

    model_config = ConfigDict(title="IdentityMatching")

    family_name: float
    given_name: float
    birth_date: float
    overall_match: bool


class ReplyMeta(BaseModel):
    """Where a reply comes from."""

    model_config = ConfigDict(title="ReplyMeta")

    request_id: str = Field(description="The request's ``message_id``.")
    dataset: str | None = None
    version: int | None = None
    provider: str | None = Field(default=None, description="Provider label, e.g. ``CNAV``.")
    issued_at: datetime
    scopes: list[str] | None = Field(default=None, description="Scopes applied to mask ``data``.")
    identity_matching: IdentityMatching | None = Field(
        default=None,
        description="FranceConnect mode, datasets that match the citizen against their record "
        "(ANTS): how the FranceConnect identity compares with it.",
    )
    cached: bool | None = Field(
        default=None,
        description="The provider's answer came from the reply cache (true) or from the "
        "provider now (false); absent when the provider was not asked.",
    )
    cache_expires_in: int | None = Field(
        default=None, description="When ``cached``: seconds the cache keeps that answer."
    )
    provider_paused: bool | None = Field(
        default=None,
        description="The provider is in a maintenance window or its circuit breaker is open: "
        "the error's ``retry_in`` says when it is expected back. A batch waits for it rather "
        "than spending its retries.",
    )


class ReplyBody(BaseModel):
    """Body of a reply, published to the request's ``reply_to`` with its ``correlation_id``."""

    model_config = ConfigDict(title="Reply")

    status: int = Field(description="API Particulier's HTTP status for the same answer.")
    data: dict[str, Any] | None = Field(
        description="API Particulier v3's ``data`` for the dataset, masked by scopes; null on "
        "failure."
    )
    errors: list[ErrorObject] = Field(default_factory=list)
    meta: ReplyMeta
    proof: str | None = Field(
        default=None,
        description="Proof of origin: a JWS (RFC 7515, EdDSA) with detached payload over the "
        "RFC 8785 canonical form of this reply without ``proof``. See docs/certification.md.",
    )

    @property
    def retry_in(self) -> float | None:
        """The wait an error suggests before asking again (``meta.retry_in``), if any."""
        for error in self.errors:
            wait = error.meta.get("retry_in")
            if isinstance(wait, int | float) and not isinstance(wait, bool):
                return float(wait)
        return None

    @property
    def provider_paused(self) -> bool:
        """Refused because the provider is in maintenance or its breaker is open."""
        return self.meta.provider_paused is True

    @property
    def retryable(self) -> bool:
        """Worth asking again: rate limited, or a transient failure of the provider."""
        return self.status in (429, 503, 504) or (self.retry_in is not None and self.status >= 500)
