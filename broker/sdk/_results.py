"""What a batch run yields for each row: the verified reply's status, code and data, or a
local error record when the row never reached the broker or its reply could not be used."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._rows import LOCAL_MALFORMED_ROW, LOCAL_MISSING_COLUMN

if TYPE_CHECKING:
    from aio_pika.abc import AbstractIncomingMessage

    from ..client import Reply

__all__ = [
    "LOCAL_CODES",
    "LOCAL_NO_REPLY",
    "LOCAL_PROOF_INVALID",
    "LOCAL_STATUS",
    "OUTCOMES",
    "BatchResult",
    "local_error",
    "outcome_of",
]

LOCAL_NO_REPLY = "local.no_reply"
"""No reply after every re-send (each waited ``reply_timeout``): the request was probably
dead-lettered."""
LOCAL_PROOF_INVALID = "local.proof_invalid"
"""A reply came but its proof of origin did not verify: its content is not used."""
LOCAL_STATUS = 0
"""The status of a local error record: no broker status exists for it."""

LOCAL_CODES: dict[str, str] = {
    LOCAL_MISSING_COLUMN: "Colonne manquante",
    LOCAL_MALFORMED_ROW: "Ligne illisible",
    LOCAL_NO_REPLY: "Aucune réponse",
    LOCAL_PROOF_INVALID: "Preuve d'origine invalide",
}

OUTCOMES = ("ok", "not_found", "invalid", "forbidden", "rate_limited", "error", "local")
"""Outcome classes, in the order progress and reports show them."""


def outcome_of(status: int) -> str:
    """The class of a status: what a person reading the progress bar cares about."""
    if status == 200:
        return "ok"
    if status == 404:
        return "not_found"
    if status in (400, 422):
        return "invalid"
    if status in (401, 403):
        return "forbidden"
    if status == 429:
        return "rate_limited"
    if status == LOCAL_STATUS:
        return "local"
    return "error"


@dataclass(slots=True)
class BatchResult:
    """The final answer for one input row."""

    row: int
    id: str
    status: int
    code: str | None
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    request_id: str | None = None
    """The ``message_id`` of the request answered (the journal's key), ``None`` if local."""
    latency: float | None = None
    """Seconds from the publication of the answered request to its reply."""
    attempts: int = 0
    """Publications of this row in this session (re-sends after 429s, timeouts...)."""
    reply: Reply | None = None
    _message: AbstractIncomingMessage | None = field(default=None, repr=False)

    @property
    def outcome(self) -> str:
        return outcome_of(self.status)

    @property
    def parameter(self) -> str | None:
        """The parameter the first error names, if any."""
        for error in self.errors:
            source = error.get("source") or {}
            if isinstance(source, dict) and source.get("parameter"):
                return str(source["parameter"])
        return None

    async def ack(self) -> None:
        """Release the reply from the run's durable queue: call once it is safely stored."""
        message, self._message = self._message, None
        if message is not None:
            # After a reconnection the delivery tag is stale; the reply is then delivered
            # again and skipped as a duplicate.
            with contextlib.suppress(Exception):
                await message.ack()


def local_error(
    row: int,
    row_id: str,
    code: str,
    *,
    parameter: str | None = None,
    detail: str | None = None,
    attempts: int = 0,
) -> BatchResult:
    """A local error record, shaped like API Particulier's error object."""
    error: dict[str, Any] = {
        "code": code,
        "title": LOCAL_CODES.get(code, code),
        "detail": detail or LOCAL_CODES.get(code, code),
        "source": {"parameter": parameter} if parameter else None,
        "meta": {"local": True},
    }
    return BatchResult(row, row_id, LOCAL_STATUS, code, None, [error], attempts=attempts)
