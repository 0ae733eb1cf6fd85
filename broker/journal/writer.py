"""The journal writer: grouped commits, one hash chain across every process.

Concurrent :meth:`Journal.record` calls of a process are grouped into one transaction by one
background task. A transaction locks the chain's head row, so the batches of all processes
line up into a single chain; the rows of a batch are inserted with one statement that also
stores the replies for idempotency and moves the head.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from ..db.grouped import Grouped
from ..db.pool import ArgumentError, is_unavailable
from ..sdk.contract import Lane
from .chain import head_mac, row_hash, utc
from .entry import ENTRY_COLUMNS, ENTRY_TYPES, JournalEntry
from .settings import JournalSettings, journal_key

__all__ = ["Journal", "JournalError", "JournalStats", "JournalUnavailable"]

log = logging.getLogger(__name__)

_INT4 = 2**31


class JournalError(Exception):
    """The row could not be committed: nothing may be published for this request."""


class JournalUnavailable(JournalError):
    """PostgreSQL cannot be reached now: keep the request unacked and retry later."""


@dataclass
class JournalStats:
    """Counters of this process's writer, to measure grouping."""

    rows: int = 0
    batches: int = 0
    failed_batches: int = 0
    largest_batch: int = 0


@dataclass(eq=False)
class _Pending:
    row: dict[str, Any]
    reply: bytes
    future: asyncio.Future[None]
    queued_at: float = field(default=0.0)
    urgent: bool = False
    """An interactive request's row: its batch is written without waiting for companions."""


_LOCK_HEAD = """
SELECT seq, hash, mac,
       greatest(coalesce($1::timestamptz, clock_timestamp()), recorded_at) AS now
FROM journal_head
FOR UPDATE
"""


def _insert_statement() -> str:
    """The batch INSERT, from the entry's columns: every column is one array parameter."""
    unnested = ("seq", *ENTRY_COLUMNS, "prev_hash", "hash")
    types = {"seq": "bigint", **ENTRY_TYPES, "prev_hash": "bytea", "hash": "bytea"}
    types["scopes"] = "text"  # each row's scopes travel as a JSON array (arrays of arrays)
    number = {name: n for n, name in enumerate(unnested, start=2)}
    reply, head = len(unnested) + 2, len(unnested) + 3
    selected = [
        "ARRAY(SELECT jsonb_array_elements_text(u.scopes::jsonb))" if c == "scopes" else f"u.{c}"
        for c in unnested
    ]
    selected.insert(1, "$1")
    arrays = ", ".join(f"${number[c]}::{types[c]}[]" for c in unnested)
    return f"""
WITH j AS (
    INSERT INTO journal (seq, recorded_at, {", ".join(unnested[1:])})
    SELECT {", ".join(selected)}
    FROM unnest({arrays}) AS u({", ".join(unnested)})
), r AS (
    INSERT INTO replies (day, requester, message_id, created_at, reply)
    SELECT ($1 AT TIME ZONE 'UTC')::date, u.requester, u.message_id, $1, u.reply
    FROM unnest(${number["requester"]}::text[], ${number["message_id"]}::text[], ${reply}::bytea[])
         AS u(requester, message_id, reply)
    ON CONFLICT DO NOTHING
)
UPDATE journal_head SET seq = ${head}, hash = ${head + 1}, mac = ${head + 2}, recorded_at = $1
"""


_INSERT = _insert_statement()

_REPLAY = """
SELECT DISTINCT ON (r.requester, r.message_id) r.requester, r.message_id, r.reply
FROM replies r
JOIN unnest($1::text[], $2::text[]) AS asked(requester, message_id) USING (requester, message_id)
WHERE r.day >= $3 AND r.created_at >= $4
ORDER BY r.requester, r.message_id, r.created_at
"""


def _text(value: str) -> str:
    """What PostgreSQL can store: no NUL, valid UTF-8 (the hash covers the stored form)."""
    return value.replace("\0", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _opt_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def _int4(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    number = int(value)
    if not -_INT4 <= number < _INT4:
        raise ValueError(f"{name} out of range")
    return number


def _row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "at": utc(entry.at),
        "message_id": _text(entry.message_id),
        "correlation_id": _opt_text(entry.correlation_id),
        "requester": _text(entry.requester),
        "agency": _opt_text(entry.agency),
        "habilitation_id": None if entry.habilitation_id is None else int(entry.habilitation_id),
        "recipient": _opt_text(entry.recipient),
        "dataset": _opt_text(entry.dataset),
        "version": _int4(entry.version, "version"),
        "lane": _text(entry.lane),
        "scopes": [_text(s) for s in entry.scopes],
        "status": _int4(entry.status, "status"),
        "error_code": _opt_text(entry.error_code),
        "upstream_latency_ms": (
            None if entry.upstream_latency_ms is None else float(entry.upstream_latency_ms)
        ),
        "cached": bool(entry.cached),
        "reply_digest": _text(entry.reply_digest),
        "subject": _opt_text(entry.subject),
        "editor": _opt_text(entry.editor),
        "agent": _opt_text(entry.agent),
        "_scopes_json": json.dumps([_text(s) for s in entry.scopes]),
    }


def _failure(exc: BaseException) -> JournalError:
    """A journal error whose text names the failure's kind only (no value of the request)."""
    if isinstance(exc, JournalError):
        return exc
    kind = type(exc).__name__
    state = getattr(exc, "sqlstate", None)
    label = f"{kind} {state}" if state else kind
    if is_unavailable(exc):
        return JournalUnavailable(f"journal unavailable ({label})")
    return JournalError(f"journal write failed ({label})")


class Journal:
    """Appends journal rows; :meth:`record` returns once its row is committed.

    ``max_batch`` bounds the rows of one transaction; ``max_delay`` is the longest a row waits
    for companions before its batch is written. Rows that queue while a batch is being written
    go out in the next one without waiting: under load, batches form by themselves. A row of
    the interactive lane waits for nobody: a person's request is not held for a nightly run's
    rows (its batch goes with whatever is pending).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        max_batch: int = 500,
        max_delay: float = 0.005,
        key: bytes | None = None,
        reply_ttl: timedelta | None = None,
        timeout: float = 5.0,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._pool = pool
        self._max_batch = max_batch
        self._max_delay = max(0.0, max_delay)
        self._key = key if key is not None else journal_key()
        self._reply_ttl = reply_ttl or timedelta(hours=JournalSettings().reply_ttl_hours)
        self._timeout = timeout
        self._pending: list[_Pending] = []
        self._urgent = False
        """Whether an interactive request's row is pending."""
        self._wakeup = asyncio.Event()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._partitions: set[date] = set()
        self._replays = Grouped(self._replay_many)
        self.stats = JournalStats()

    async def start(self) -> None:
        """Start the background writer; needs no database (an outage is reported per row)."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="journal-writer")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        self._arrived.set()
        if self._task is not None:
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> Journal:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def record(self, entry: JournalEntry, reply: bytes) -> None:
        """Append ``entry`` and keep ``reply`` for replays; returns once both are committed.

        Raises :class:`JournalUnavailable` when PostgreSQL cannot be reached (within
        ``timeout`` seconds at most), :class:`JournalError` when the row is refused.
        """
        if self._task is None or self._task.done():
            raise RuntimeError("Journal.start() was not awaited")
        if self._closing:
            raise JournalUnavailable("journal closing")
        try:
            row = _row(entry)
        except (TypeError, ValueError) as exc:
            raise JournalError(f"journal row refused ({type(exc).__name__})") from None
        loop = asyncio.get_running_loop()
        urgent = entry.lane == Lane.INTERACTIVE
        pending = _Pending(row, bytes(reply), loop.create_future(), loop.time(), urgent)
        self._pending.append(pending)
        self._urgent = self._urgent or urgent
        self._arrived.set()
        self._wakeup.set()
        await pending.future

    async def replay(self, requester: str, message_id: str) -> bytes | None:
        """The reply already sent for this request, when it was answered within the TTL."""
        try:
            async with asyncio.timeout(self._timeout):
                return await self._replays((_text(requester), _text(message_id)))
        except Exception as exc:
            if is_unavailable(exc):
                raise _failure(exc) from None
            raise

    async def _replay_many(self, asked: Sequence[tuple[str, str]]) -> list[bytes | None]:
        """The look-ups made meanwhile, in one statement (every request makes one)."""
        since = datetime.now(UTC) - self._reply_ttl
        requesters, message_ids = zip(*asked, strict=True)
        rows = await self._pool.fetch(
            _REPLAY, list(requesters), list(message_ids), since.date(), since
        )
        found = {(r["requester"], r["message_id"]): bytes(r["reply"]) for r in rows}
        return [found.get(key) for key in asked]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._gather(loop)
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            self._urgent = any(p.urgent for p in self._pending)
            try:
                await self._flush(batch)
            except Exception:  # never let the writer die: its callers would wait forever
                log.exception("journal writer failed")
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(JournalError("journal writer failed"))

    async def _gather(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for companions while they keep coming, at most ``max_delay`` for the oldest.

        Rows that queued while the previous batch was written are past their delay and go at
        once; a lone row waits only ``max_delay / 5`` for another one.
        """
        deadline = self._pending[0].queued_at + self._max_delay
        gap = self._max_delay / 5
        while len(self._pending) < self._max_batch and not self._closing and not self._urgent:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(gap, remaining))
            except TimeoutError:
                return

    async def _flush(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if not p.future.done()]
        if not live:
            return
        try:
            await self._write_with_retry(live)
        except Exception as exc:
            error = _failure(exc)
            self.stats.failed_batches += 1
            if (
                not isinstance(error, JournalUnavailable)
                and len(live) > 1
                and isinstance(exc, asyncpg.PostgresError | ArgumentError)
            ):
                log.warning("journal batch refused (%s): writing its rows one by one", error)
                for item in live:
                    await self._flush([item])
                return
            log.warning("%s", error)
            for item in live:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        self.stats.rows += len(live)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(live))
        for item in live:
            if not item.future.done():
                item.future.set_result(None)

    async def _write_with_retry(self, batch: list[_Pending], at: datetime | None = None) -> None:
        async with asyncio.timeout(self._timeout):
            try:
                await self._write(batch, at)
            except asyncpg.CheckViolationError:
                # "no partition for row": a partition we believed present is gone
                self._partitions.clear()
                await self._write(batch, at)

    async def _write(self, batch: list[_Pending], at: datetime | None = None) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow(_LOCK_HEAD, at)
            seq: int = head["seq"]
            prev = bytes(head["hash"])
            now: datetime = head["now"]
            if head["mac"] is not None and not hmac.compare_digest(
                bytes(head["mac"]), head_mac(self._key, seq, prev)
            ):
                raise JournalError(
                    "the journal head was not sealed with this journal key: "
                    "check PARTICULIER_JOURNAL_KEY, then run `particulier audit verify`"
                )
            day = utc(now).date()
            ensured = day in self._partitions
            if not ensured:
                await conn.execute("SELECT particulier_ensure_partitions($1)", now)
            columns: dict[str, list[Any]] = {name: [] for name in ENTRY_COLUMNS}
            seqs: list[int] = []
            prevs: list[bytes] = []
            hashes: list[bytes] = []
            for item in batch:
                seq += 1
                row = item.row
                row["seq"] = seq
                row["recorded_at"] = now
                digest = row_hash(self._key, prev, row)
                seqs.append(seq)
                prevs.append(prev)
                hashes.append(digest)
                for name in ENTRY_COLUMNS:
                    columns[name].append(row["_scopes_json"] if name == "scopes" else row[name])
                prev = digest
            await conn.execute(
                _INSERT,
                now,
                seqs,
                *(columns[name] for name in ENTRY_COLUMNS),
                prevs,
                hashes,
                [item.reply for item in batch],
                seq,
                prev,
                head_mac(self._key, seq, prev),
            )
        if not ensured:
            self._partitions.add(day)

    async def _backdate(self, entries: list[tuple[JournalEntry, bytes]], at: datetime) -> None:
        """Write ``entries`` as if recorded at ``at`` (tests and imports of old journals)."""
        loop = asyncio.get_running_loop()
        batch = [_Pending(_row(e), bytes(r), loop.create_future()) for e, r in entries]
        await self._write_with_retry(batch, at)
