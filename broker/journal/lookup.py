"""Reading the journal: who accessed a person's data, an agency's accesses, daily counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

__all__ = ["Access", "DailyCount", "accesses_by_agency", "accesses_to_subject", "daily_counts"]


@dataclass(frozen=True)
class Access:
    """One journal row, with the legal basis of the habilitation it was served under."""

    seq: int
    recorded_at: datetime
    message_id: str
    requester: str
    agency: str | None
    recipient: str | None
    dataset: str | None
    version: int | None
    lane: str
    scopes: tuple[str, ...]
    status: int
    error_code: str | None
    cached: bool
    habilitation_id: int | None
    legal_basis: str | None
    legal_reference: str | None
    editor: str | None = None
    """The editor that asked for the agency, under a delegation."""
    agent: str | None = None
    """The keyed hash of the agent at the counter, when the request named one."""

    @property
    def asked_by(self) -> str:
        """Who asked, as a data protection officer reads it: "an agent of <agency>", and the
        editor's software it went through ("… via <editor>")."""
        agency = self.agency or self.requester
        who = f"an agent of {agency}" if self.agent else agency
        return f"{who} via {self.editor}" if self.editor else who


_ACCESS = """
SELECT j.seq, j.recorded_at, j.message_id, j.requester, j.agency, j.recipient, j.dataset,
       j.version, j.lane, j.scopes, j.status, j.error_code, j.cached, j.habilitation_id,
       h.legal_basis, h.legal_reference, j.editor, j.agent
FROM journal j LEFT JOIN habilitations h ON h.id = j.habilitation_id
"""


def _access(row: asyncpg.Record) -> Access:
    values = dict(row)
    values["scopes"] = tuple(values["scopes"])
    return Access(**values)


async def accesses_to_subject(
    conn: asyncpg.Connection, subject: str, *, since: datetime | None = None
) -> list[Access]:
    """Every request about the person whose pseudonym is ``subject``, oldest first."""
    rows = await conn.fetch(
        _ACCESS + " WHERE j.subject = $1 AND ($2::timestamptz IS NULL OR j.recorded_at >= $2)"
        " ORDER BY j.seq",
        subject,
        since,
    )
    return [_access(r) for r in rows]


async def accesses_by_agency(
    conn: asyncpg.Connection,
    agency: str,
    *,
    since: datetime,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Access]:
    """An agency's requests in a period, oldest first (for its data protection officer)."""
    rows = await conn.fetch(
        _ACCESS + " WHERE j.agency = $1 AND j.recorded_at >= $2"
        " AND ($3::timestamptz IS NULL OR j.recorded_at < $3) ORDER BY j.seq LIMIT $4",
        agency,
        since,
        until,
        limit,
    )
    return [_access(r) for r in rows]


@dataclass(frozen=True)
class DailyCount:
    day: date
    dataset: str | None
    requests: int
    answered: int
    """Replies with data (status below 400)."""
    refused: int


async def daily_counts(
    conn: asyncpg.Connection, *, since: datetime, until: datetime | None = None
) -> list[DailyCount]:
    """Requests per dataset and UTC day, like API Particulier's public statistics."""
    rows = await conn.fetch(
        """SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day, dataset,
                  count(*) AS requests,
                  count(*) FILTER (WHERE status < 400) AS answered,
                  count(*) FILTER (WHERE status >= 400) AS refused
           FROM journal
           WHERE recorded_at >= $1 AND ($2::timestamptz IS NULL OR recorded_at < $2)
           GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST""",
        since,
        until,
    )
    return [DailyCount(**dict(r)) for r in rows]
