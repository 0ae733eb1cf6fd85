"""One journal row as the worker describes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..certification import reply_digest

__all__ = ["JournalEntry", "reply_digest"]


@dataclass(frozen=True)
class JournalEntry:
    """What was asked, by whom, under which habilitation, and what was answered.

    Never holds the person's identifiers: ``subject`` is their keyed pseudonym
    (:func:`broker.journal.pseudonym`).
    """

    at: datetime
    message_id: str
    correlation_id: str | None
    requester: str
    agency: str | None
    habilitation_id: int | None
    recipient: str | None
    dataset: str | None
    version: int | None
    lane: str
    scopes: tuple[str, ...]
    status: int
    error_code: str | None
    upstream_latency_ms: float | None
    cached: bool
    reply_digest: str
    subject: str | None
