"""Retention: drop whole journal partitions past the retention period, and expired replies.

The dropped rows are a prefix of the chain (partitions follow ``recorded_at``, which the
writers assign in chain order), so the chain stays verifiable from the first remaining row:
the last dropped row's hash becomes the sealed anchor that ``verify`` starts from.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

from .chain import anchor_mac
from .settings import JournalSettings, journal_key

__all__ = ["Age", "PurgeError", "PurgeResult", "parse_age", "purge"]

_AGE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_JOURNAL_PARTITION = re.compile(r"^journal_(\d{4})m(\d{2})$")
_REPLY_PARTITION = re.compile(r"^replies_(\d{4})d(\d{2})(\d{2})$")


class PurgeError(RuntimeError):
    """The purge was refused; nothing was dropped."""


@dataclass(frozen=True)
class Age:
    """A retention period in calendar months and days."""

    months: int = 0
    days: int = 0

    def before(self, now: datetime) -> datetime:
        index = now.year * 12 + now.month - 1 - self.months
        year, month = divmod(index, 12)
        month += 1
        day = min(now.day, calendar.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day) - timedelta(days=self.days)


def parse_age(text: str) -> Age:
    """``36m`` (months), ``3y``, ``90d``, ``2w``."""
    match = _AGE.match(text)
    if match is None:
        raise ValueError("expected a number followed by d, w, m or y, e.g. 36m")
    number, unit = int(match.group(1)), match.group(2).lower()
    return {
        "d": Age(days=number),
        "w": Age(days=7 * number),
        "m": Age(months=number),
        "y": Age(months=12 * number),
    }[unit]


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    journal_partitions: list[str] = field(default_factory=list)
    reply_partitions: list[str] = field(default_factory=list)
    anchor_seq: int | None = None
    """The new start of the chain (last dropped row), when rows were dropped."""
    dry_run: bool = False


async def _children(conn: asyncpg.Connection, parent: str) -> list[str]:
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = $1::regclass ORDER BY c.relname""",
        parent,
    )
    return [r["relname"] for r in rows]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def purge(
    conn: asyncpg.Connection,
    older_than: Age | str,
    *,
    key: bytes | None = None,
    reply_ttl: timedelta | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeResult:
    """Drop the journal partitions wholly older than ``older_than`` and expired replies.

    Needs the administrator's connection (it drops tables) and the journal key (it seals the
    new anchor).
    """
    age = parse_age(older_than) if isinstance(older_than, str) else older_than
    key = key if key is not None else journal_key()
    ttl = reply_ttl or timedelta(hours=JournalSettings().reply_ttl_hours)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    cutoff = age.before(now)
    replies_before = now - ttl

    journal_drop: list[tuple[str, datetime]] = []
    reply_drop: list[str] = []
    anchor_seq: int | None = None
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("SET LOCAL lock_timeout = '30s'")
        await conn.execute("SELECT 1 FROM journal_head FOR UPDATE")
        for name in await _children(conn, "journal"):
            match = _JOURNAL_PARTITION.match(name)
            if match is None:
                continue
            year, month = int(match.group(1)), int(match.group(2))
            upper = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            if upper <= cutoff:
                journal_drop.append((name, upper))
        for name in await _children(conn, "replies"):
            match = _REPLY_PARTITION.match(name)
            if match is None:
                continue
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            upper = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            if upper <= replies_before:
                reply_drop.append(name)

        if journal_drop:
            last: asyncpg.Record | None = None
            for name, _ in journal_drop:
                row = await conn.fetchrow(
                    f"SELECT seq, hash FROM {_ident(name)} ORDER BY seq DESC LIMIT 1"
                )
                if row is not None and (last is None or row["seq"] > last["seq"]):
                    last = row
            if last is not None:
                boundary = max(upper for _, upper in journal_drop)
                first_kept = await conn.fetchval(
                    "SELECT min(seq) FROM journal WHERE recorded_at >= $1", boundary
                )
                if first_kept is not None and first_kept <= last["seq"]:
                    raise PurgeError("the rows to drop are not a prefix of the chain")
                anchor_seq = last["seq"]
                await conn.execute(
                    "UPDATE journal_anchor SET seq = $1, hash = $2, purged_before = $3, mac = $4",
                    last["seq"],
                    bytes(last["hash"]),
                    boundary,
                    anchor_mac(key, last["seq"], bytes(last["hash"])),
                )
            for name, _ in journal_drop:
                await conn.execute(f"DROP TABLE {_ident(name)}")
        for name in reply_drop:
            await conn.execute(f"DROP TABLE {_ident(name)}")
    except BaseException:
        await transaction.rollback()
        raise
    if dry_run:
        await transaction.rollback()
    else:
        await transaction.commit()
    return PurgeResult(
        cutoff=cutoff,
        journal_partitions=[name for name, _ in journal_drop],
        reply_partitions=reply_drop,
        anchor_seq=anchor_seq,
        dry_run=dry_run,
    )
