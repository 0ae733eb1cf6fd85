"""Tamper evidence: verify reports the first row altered, deleted or inserted; purge keeps
the chain verifiable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from broker.db import create_pool
from broker.journal import Journal, purge, verify
from broker.journal.purge import PurgeError, parse_age

from .support import JOURNAL_KEY, Database, entry

Factory = Callable[[], Awaitable[Database]]


@pytest_asyncio.fixture
async def chain(new_database: Factory) -> AsyncIterator[tuple[Database, asyncpg.Connection]]:
    """A fresh database holding a 30-row chain written in batches of 10; an admin connection."""
    db = await new_database()
    pool = await create_pool(db.app_url)
    try:
        async with Journal(pool, key=JOURNAL_KEY, max_batch=10) as journal:
            for start in range(0, 30, 10):
                for i in range(start, start + 10):
                    await journal.record(entry(i), b"r")
    finally:
        await pool.close()
    conn = await asyncpg.connect(db.admin_url)
    try:
        result = await verify(conn, key=JOURNAL_KEY)
        assert result.ok and result.rows == 30 and result.last_seq == 30
        yield db, conn
    finally:
        await conn.close()


_FORGED_AT_THE_END = """INSERT INTO journal SELECT 31, recorded_at, at, 'forged', correlation_id,
    requester, agency, habilitation_id, recipient, dataset, version, lane, scopes, status,
    error_code, upstream_latency_ms, cached, reply_digest, subject, hash, sha256(hash)
    FROM journal WHERE seq = 30"""

TAMPERINGS = {
    "updated row": (["UPDATE journal SET status = 404 WHERE seq = 17"], ("altered", 17)),
    "updated row, its hash recomputed without the key": (
        ["UPDATE journal SET agency = 'Autre', hash = sha256(hash) WHERE seq = 9"],
        ("altered", 9),
    ),
    "deleted row": (["DELETE FROM journal WHERE seq = 12"], ("deleted", 12)),
    "deleted tail": (["DELETE FROM journal WHERE seq >= 28"], ("deleted", 28)),
    "deleted tail, head moved back": (
        [
            "DELETE FROM journal WHERE seq >= 28",
            "UPDATE journal_head SET seq = 27, hash = (SELECT hash FROM journal WHERE seq = 27)",
        ],
        ("altered", 27),
    ),
    # both copies lie in the same partition, where ctid tells them apart
    "inserted copy": (
        [
            "INSERT INTO journal SELECT * FROM journal WHERE seq = 5",
            "UPDATE journal SET status = 500 "
            "WHERE ctid = (SELECT max(ctid) FROM journal WHERE seq = 5)",
        ],
        ("inserted", 5),
    ),
    "inserted row at the end": ([_FORGED_AT_THE_END], ("inserted", 31)),
    "inserted row before the start": (
        [
            "INSERT INTO journal SELECT * FROM journal WHERE seq = 1",
            "UPDATE journal SET seq = 0 WHERE ctid = (SELECT max(ctid) FROM journal WHERE seq = 1)",
        ],
        ("inserted", 0),
    ),
}
"""Each tampering with the chain, and the first problem verify must report: (kind, seq)."""


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
async def test_verify_reports_the_first_row_tampered_with(
    chain: tuple[Database, asyncpg.Connection], tampering: str
) -> None:
    statements, problem = TAMPERINGS[tampering]
    _, conn = chain
    for statement in statements:
        await conn.execute(statement)
    result = await verify(conn, key=JOURNAL_KEY)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == problem


async def test_an_editors_row_is_chained_with_its_editor_and_agent(new_database: Factory) -> None:
    """Rows naming an editor or an agent hash them too (format j2): a row whose editor is
    cleared, to pass an editor's request off as the agency's own, no longer verifies."""
    db = await new_database()
    pool = await create_pool(db.app_url)
    try:
        async with Journal(pool, key=JOURNAL_KEY) as journal:
            for i in range(6):
                extra = {"editor": "Logiciel", "agent": "a" * 64} if i % 2 else {}
                await journal.record(entry(i, **extra), b"r")
    finally:
        await pool.close()
    conn = await asyncpg.connect(db.admin_url)
    try:
        assert (await verify(conn, key=JOURNAL_KEY)).ok
        await conn.execute("UPDATE journal SET editor = NULL, agent = NULL WHERE seq = 4")
        result = await verify(conn, key=JOURNAL_KEY)
        assert result.problem is not None
        assert (result.problem.kind, result.problem.seq) == ("altered", 4)
    finally:
        await conn.close()


async def test_wrong_key_is_reported(chain: tuple[Database, asyncpg.Connection]) -> None:
    _, conn = chain
    result = await verify(conn, key=b"not the journal key, 32 bytes..!")
    assert result.problem is not None and result.problem.seq == 1
    assert "PARTICULIER_JOURNAL_KEY" in result.problem.detail


async def test_purge_keeps_the_chain_verifiable(new_database: Factory) -> None:
    db = await new_database()
    now = datetime.now(UTC)
    old = [now - timedelta(days=31 * 40), now - timedelta(days=31 * 38), now - timedelta(days=31)]
    pool = await create_pool(db.app_url)
    admin = await asyncpg.connect(db.admin_url)
    try:
        async with Journal(pool, key=JOURNAL_KEY) as journal:
            for month, at in enumerate(old):
                await admin.execute("SELECT particulier_ensure_partitions($1)", at)
                await journal._backdate([(entry(10 * month + i), b"r") for i in range(3)], at)
            for i in range(4):
                await journal.record(entry(100 + i), b"r")
        assert (await verify(admin, key=JOURNAL_KEY)).rows == 13

        dry = await purge(admin, "36m", key=JOURNAL_KEY, dry_run=True)
        assert len(dry.journal_partitions) == 2 and dry.anchor_seq == 6
        assert (await verify(admin, key=JOURNAL_KEY)).rows == 13

        done = await purge(admin, parse_age("36m"), key=JOURNAL_KEY)
        assert done.journal_partitions == dry.journal_partitions and done.anchor_seq == 6
        result = await verify(admin, key=JOURNAL_KEY)
        assert result.ok, result.problem
        assert (result.rows, result.first_seq, result.last_seq) == (7, 7, 13)
        again = await purge(admin, "36m", key=JOURNAL_KEY)
        assert not again.journal_partitions and again.anchor_seq is None

        # the first remaining row deleted: noticed, thanks to the sealed anchor
        await admin.execute("DELETE FROM journal WHERE seq = 7")
        result = await verify(admin, key=JOURNAL_KEY)
        assert result.problem is not None
        assert (result.problem.kind, result.problem.seq) == ("deleted", 7)
        # the anchor moved forward to hide it: noticed too (it is sealed by the key)
        await admin.execute(
            "UPDATE journal_anchor SET seq = 7, hash = (SELECT hash FROM journal WHERE seq = 8)"
        )
        result = await verify(admin, key=JOURNAL_KEY)
        assert result.problem is not None and result.problem.kind == "deleted"
    finally:
        await admin.close()
        await pool.close()


async def test_purge_drops_expired_replies(new_database: Factory) -> None:
    db = await new_database()
    admin = await asyncpg.connect(db.admin_url)
    try:
        old_day = datetime.now(UTC) - timedelta(days=3)
        await admin.execute("SELECT particulier_ensure_reply_partition($1)", old_day)
        result = await purge(admin, "36m", key=JOURNAL_KEY)
        assert result.reply_partitions == [f"replies_{old_day:%Y}d{old_day:%m%d}"]
        assert not result.journal_partitions and result.anchor_seq is None
        assert (await verify(admin, key=JOURNAL_KEY)).ok
    finally:
        await admin.close()


async def test_purge_refuses_rows_out_of_chain_order(new_database: Factory) -> None:
    db = await new_database()
    admin = await asyncpg.connect(db.admin_url)
    pool = await create_pool(db.app_url)
    try:
        async with Journal(pool, key=JOURNAL_KEY) as journal:
            await journal.record(entry(1), b"r")
        old = datetime.now(UTC) - timedelta(days=31 * 40)
        await admin.execute("SELECT particulier_ensure_partitions($1)", old)
        await admin.execute(
            "INSERT INTO journal SELECT seq + 1, $1, at, message_id, "
            "correlation_id, requester, agency, habilitation_id, recipient, "
            "dataset, version, lane, scopes, status, error_code, "
            "upstream_latency_ms, cached, reply_digest, subject, prev_hash, hash "
            "FROM journal",
            old,
        )
        with pytest.raises(PurgeError):
            await purge(admin, "36m", key=JOURNAL_KEY)
    finally:
        await pool.close()
        await admin.close()


def test_parse_age() -> None:
    assert parse_age("36m").months == 36
    assert parse_age("3y").months == 36
    assert parse_age("90d").days == 90
    assert parse_age("2w").days == 14
    now = datetime(2025, 3, 31, 12, tzinfo=UTC)
    assert parse_age("1m").before(now) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert parse_age("36m").before(now) == datetime(2022, 3, 31, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_age("36")
