"""One inbound request, read once from its AMQP message into a frozen value.

Everything after the edge (the pipeline, the sealing) reads this value and never the message:
the pipeline runs the same without RabbitMQ (:mod:`broker.simulation.harness`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import BROKER, ProblemError
from ..sdk.contract import CACHE_CONTROL_HEADER, DEADLINE_HEADER, Lane, RequestBody
from ..sdk.proof import request_hash

__all__ = ["HashRequest", "Request", "deadline_of", "read_request"]

HashRequest = Callable[..., str]
""":func:`broker.sdk.proof.request_hash`'s signature: what a reply's proof binds it to."""


@dataclass(frozen=True, slots=True)
class Request:
    """A request as the worker serves it: its envelope, its body, and how it hashes."""

    message_id: str
    correlation_id: str | None
    requester: str
    """The publisher's RabbitMQ login (``user_id``, verified by RabbitMQ)."""
    reply_queue: str
    lane: Lane
    deadline: float
    """The requester's deadline as a ``time.monotonic()`` instant."""
    body: RequestBody | None
    """``None`` when the body is unreadable: ``problem`` says why."""
    problem: ProblemError | None
    """The coded error that answers this request instead of serving it, if any."""
    digest: str
    """The request hash its reply's proof is bound to."""
    no_cache: bool = False
    """Header ``cache-control: no-cache``: ask the provider even if the cache holds an answer."""

    @property
    def dataset_id(self) -> str | None:
        return self.body.dataset if self.body else None


def read_request(
    *,
    body: bytes,
    message_id: str | None,
    correlation_id: str | None,
    requester: str,
    reply_queue: str,
    lane: Lane,
    headers: Mapping[str, Any] | None,
    default_deadline: float,
    hash_request: HashRequest = request_hash,
) -> Request:
    """Parse a message's body and properties once; bad input becomes ``problem``, never an
    exception."""
    parsed, problem = _parse(body, message_id, correlation_id)
    digest = hash_request(
        dataset=parsed.dataset if parsed else "",
        version=parsed.version if parsed else None,
        params=parsed.params if parsed else {},
        recipient=parsed.recipient if parsed else None,
        message_id=message_id or "",
        requester=requester,
        france_connect_token=parsed.france_connect_token if parsed else None,
        on_behalf_of=parsed.on_behalf_of if parsed else None,
        agent=parsed.agent if parsed else None,
    )
    return Request(
        message_id=message_id or "",
        correlation_id=correlation_id,
        requester=requester,
        reply_queue=reply_queue,
        lane=lane,
        deadline=deadline_of(headers, default_deadline),
        body=parsed,
        problem=problem,
        digest=digest,
        no_cache="no-cache" in str((headers or {}).get(CACHE_CONTROL_HEADER, "")).lower(),
    )


def _parse(
    body: bytes, message_id: str | None, correlation_id: str | None
) -> tuple[RequestBody | None, ProblemError | None]:
    try:
        parsed = RequestBody.model_validate_json(body)
    except ValidationError as exc:
        loc = exc.errors(include_url=False)[0].get("loc") or ()
        return None, ProblemError(BROKER.UNREADABLE, parameter=str(loc[0]) if loc else None)
    if not message_id:
        return parsed, ProblemError(BROKER.UNREADABLE, parameter="message_id")
    if not correlation_id:
        return parsed, ProblemError(BROKER.UNREADABLE, parameter="correlation_id")
    return parsed, None


def deadline_of(headers: Mapping[str, Any] | None, default: float) -> float:
    """The requester's deadline as a ``time.monotonic()`` instant; ``default`` seconds from now
    when the header is absent or not a finite number of milliseconds."""
    raw = (headers or {}).get(DEADLINE_HEADER)
    now = time.monotonic()
    try:
        at = float(raw) / 1000  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        at = math.nan
    if math.isfinite(at):
        return now + at - time.time()
    return now + default
