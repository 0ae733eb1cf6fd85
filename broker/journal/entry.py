"""One journal row as the worker describes it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from ..certification import reply_digest

__all__ = ["ENTRY_COLUMNS", "ENTRY_TYPES", "JournalEntry", "reply_digest"]


@dataclass(frozen=True)
class JournalEntry:
    """What was asked, by whom, under which habilitation, and what was answered.

    Never holds the person's identifiers: ``subject`` is their keyed pseudonym
    (:func:`broker.journal.pseudonym`). Each field is a column of table ``journal``, of the
    SQL type it declares.
    """

    at: datetime = field(metadata={"sql": "timestamp with time zone"})
    message_id: str = field(metadata={"sql": "text"})
    correlation_id: str | None = field(metadata={"sql": "text"})
    requester: str = field(metadata={"sql": "text"})
    agency: str | None = field(metadata={"sql": "text"})
    habilitation_id: int | None = field(metadata={"sql": "bigint"})
    recipient: str | None = field(metadata={"sql": "text"})
    dataset: str | None = field(metadata={"sql": "text"})
    version: int | None = field(metadata={"sql": "integer"})
    lane: str = field(metadata={"sql": "text"})
    scopes: tuple[str, ...] = field(metadata={"sql": "text[]"})
    status: int = field(metadata={"sql": "integer"})
    error_code: str | None = field(metadata={"sql": "text"})
    upstream_latency_ms: float | None = field(metadata={"sql": "double precision"})
    cached: bool = field(metadata={"sql": "boolean"})
    reply_digest: str = field(metadata={"sql": "text"})
    subject: str | None = field(metadata={"sql": "text"})
    editor: str | None = field(default=None, metadata={"sql": "text"})
    """The editor (software vendor) that sent the request for ``agency``, if any."""
    agent: str | None = field(default=None, metadata={"sql": "text"})
    """The keyed hash of the agent at the counter the requester named, never the id itself."""


ENTRY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(JournalEntry))
ENTRY_TYPES: dict[str, str] = {f.name: f.metadata["sql"] for f in fields(JournalEntry)}
"""The journal's columns a worker writes, in the entry's order: the writer inserts them, the
chain hashes them after ``seq`` and ``recorded_at``, and a test holds the migration to them."""
