"""The journal writer: grouped commits, one chain across processes, replays, outages."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from broker.db import create_pool
from broker.journal import (
    Journal,
    JournalError,
    JournalUnavailable,
    accesses_by_agency,
    accesses_to_subject,
    daily_counts,
    pseudonym,
    verify,
)

from .support import JOURNAL_KEY, PSEUDONYM_KEY, Database, Proxy, connected, entry, unique


async def test_concurrent_records_are_grouped_and_committed(fresh_database: Database) -> None:
    db = fresh_database
    pool = await create_pool(db.app_url, max_size=4)
    journal = Journal(pool, key=JOURNAL_KEY)
    await journal.start()
    try:
        n = 3000
        entries = [entry(i, lane="bulk") for i in range(n)]
        started = time.perf_counter()
        await asyncio.gather(*(journal.record(e, b"reply %d" % i) for i, e in enumerate(entries)))
        elapsed = time.perf_counter() - started
        rows, batches = await pool.fetchrow(
            "SELECT count(*), count(DISTINCT recorded_at) FROM journal"
        )
        print(
            f"\njournal: {n} concurrent records in {elapsed:.2f} s = {n / elapsed:.0f} rows/s, "
            f"{journal.stats.batches} transactions (largest {journal.stats.largest_batch})"
        )
        assert rows == n
        assert batches == journal.stats.batches < n / 10
        async with pool.acquire() as conn:
            assert (await verify(conn, key=JOURNAL_KEY)).ok
    finally:
        await journal.close()
        await pool.close()


async def test_a_persons_row_waits_for_no_companion(fresh_database: Database) -> None:
    """A bulk row waits for companions (here up to 6 s, a fifth of ``max_delay``, for a second
    one); an interactive row arriving meanwhile is written at once, with it."""
    db = fresh_database
    pool = await create_pool(db.app_url, max_size=4)
    journal = Journal(pool, key=JOURNAL_KEY, max_delay=30.0)
    await journal.start()
    try:
        bulk = asyncio.create_task(journal.record(entry(1, lane="bulk"), b"bulk"))
        await asyncio.sleep(0.2)
        assert not bulk.done(), "a lone bulk row waits for companions"
        async with asyncio.timeout(3):
            await journal.record(entry(2, lane="interactive"), b"person")
            await bulk
        assert journal.stats.batches == 1
    finally:
        await journal.close()
        await pool.close()


async def test_steady_rate_latency(fresh_database: Database) -> None:
    """2,000 bulk requests per second arriving one by one, as workers would send them."""
    db = fresh_database
    pool = await create_pool(db.app_url, max_size=4)
    journal = Journal(pool, key=JOURNAL_KEY)
    await journal.start()
    latencies: list[float] = []

    async def one(i: int) -> None:
        started = time.perf_counter()
        await journal.record(entry(i, lane="bulk"), b"x" * 800)
        latencies.append(time.perf_counter() - started)

    try:
        rate, seconds = 2000, 3
        tasks = []
        began = time.perf_counter()
        for i in range(rate * seconds):
            target = began + i / rate
            delay = target - time.perf_counter()
            if delay > 0.001:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        print(
            f"\njournal at {rate}/s offered: {len(latencies) / elapsed:.0f} rows/s achieved, "
            f"{journal.stats.batches} transactions, record() p50 {p50:.1f} ms p99 {p99:.1f} ms"
        )
        assert len(latencies) == rate * seconds
        assert journal.stats.batches < len(latencies) / 4
    finally:
        await journal.close()
        await pool.close()


async def test_two_writers_keep_one_chain(fresh_database: Database) -> None:
    db = fresh_database
    pools = [await create_pool(db.app_url, max_size=2) for _ in range(2)]
    journals = [Journal(pool, key=JOURNAL_KEY, max_batch=50) for pool in pools]
    try:
        for journal in journals:
            await journal.start()
        await asyncio.gather(*(journals[i % 2].record(entry(i), b"r") for i in range(2000)))
        async with pools[0].acquire() as conn:
            result = await verify(conn, key=JOURNAL_KEY)
        assert result.ok, result.problem
        assert result.rows == 2000 and result.last_seq == 2000
        assert all(j.stats.batches > 1 for j in journals)
    finally:
        for journal in journals:
            await journal.close()
        for pool in pools:
            await pool.close()


async def test_replay_returns_the_same_bytes(app_pool: asyncpg.Pool) -> None:
    journal = Journal(app_pool, key=JOURNAL_KEY)
    await journal.start()
    try:
        first = entry(1, requester=unique("agent"))
        reply = '{"status": 200, "data": {"é": 1}}'.encode()
        assert await journal.replay(first.requester, first.message_id) is None
        await journal.record(first, reply)
        assert await journal.replay(first.requester, first.message_id) == reply
        # another requester reusing the message id sees nothing
        assert await journal.replay("someone-else", first.message_id) is None
        # a redelivery answered from the stored reply is journaled too, keeping the first reply
        await journal.record(
            entry(1, requester=first.requester, message_id=first.message_id, cached=True), b"other"
        )
        assert await journal.replay(first.requester, first.message_id) == reply
    finally:
        await journal.close()


async def test_lookups(app_pool: asyncpg.Pool, admin_pool: asyncpg.Pool) -> None:
    journal = Journal(app_pool, key=JOURNAL_KEY)
    await journal.start()
    agency = unique("Agence")
    subject = pseudonym({"nomNaissance": "ROUX", "prenoms": ["JEANNE"]}, key=PSEUDONYM_KEY)
    try:
        await journal.record(entry(1, agency=agency, subject=subject, habilitation_id=None), b"")
        await journal.record(
            entry(
                2,
                agency=agency,
                subject=subject,
                habilitation_id=None,
                status=404,
                error_code="16003",
                dataset="cnav.other",
            ),
            b"",
        )
        await journal.record(entry(3, agency=agency, subject="f" * 64, habilitation_id=None), b"")
    finally:
        await journal.close()
    async with app_pool.acquire() as conn:
        mine = await accesses_to_subject(conn, subject)
        assert [a.dataset for a in mine] == ["cnav.quotient_familial", "cnav.other"]
        since = datetime.now(UTC) - timedelta(hours=1)
        by_agency = await accesses_by_agency(conn, agency, since=since)
        assert len(by_agency) == 3 and all(a.agency == agency for a in by_agency)
        counts = {(c.dataset, c.day): c for c in await daily_counts(conn, since=since)}
        other = counts[("cnav.other", datetime.now(UTC).date())]
        assert other.requests >= 1 and other.refused >= 1


async def test_unreachable_server_raises_quickly() -> None:
    pool = await create_pool("postgresql://particulier_app@127.0.0.1:1/particulier", min_size=0)
    journal = Journal(pool, key=JOURNAL_KEY)
    await journal.start()
    try:
        started = time.monotonic()
        with pytest.raises(JournalUnavailable):
            await journal.record(entry(), b"reply")
        with pytest.raises(JournalUnavailable):
            await journal.replay("guest", "m")
        assert time.monotonic() - started < 2.0
    finally:
        await journal.close()
        await pool.close()


async def test_outage_loses_nothing_and_resumes(fresh_database: Database) -> None:
    db = fresh_database
    proxy = Proxy()
    await proxy.start()
    pool = await create_pool(db.app_url.replace(":5432/", f":{proxy.port}/"), min_size=0)
    journal = Journal(pool, key=JOURNAL_KEY, timeout=2.0)
    await journal.start()
    committed: list[str] = []
    try:
        for i in range(5):
            e = entry(i)
            await journal.record(e, b"r")
            committed.append(e.message_id)
        await proxy.stop()
        waiting = [entry(100 + i) for i in range(20)]
        started = time.monotonic()
        results = await asyncio.gather(
            *(journal.record(e, b"r") for e in waiting), return_exceptions=True
        )
        assert all(isinstance(r, JournalUnavailable) for r in results), results
        assert time.monotonic() - started < 3.0
        await proxy.start()
        # the caller retries what failed (the request stayed unacked); it now succeeds
        await asyncio.gather(*(journal.record(e, b"r") for e in waiting))
        committed += [e.message_id for e in waiting]
    finally:
        await journal.close()
        await pool.close()
        await proxy.stop()
    async with connected(db.app_url) as conn:
        stored = {r["message_id"] for r in await conn.fetch("SELECT message_id FROM journal")}
        assert stored == set(committed)
        assert (await verify(conn, key=JOURNAL_KEY)).ok


async def test_writer_with_another_key_is_refused(fresh_pool: asyncpg.Pool) -> None:
    async with Journal(fresh_pool, key=JOURNAL_KEY) as journal:
        await journal.record(entry(), b"r")
    async with Journal(fresh_pool, key=b"another key, of 32 bytes, too..!") as journal:
        with pytest.raises(JournalError) as caught:
            await journal.record(entry(), b"r")
        assert not isinstance(caught.value, JournalUnavailable)


async def test_unusual_text_is_stored_and_verifiable(fresh_pool: asyncpg.Pool) -> None:
    async with Journal(fresh_pool, key=JOURNAL_KEY) as journal:
        await journal.record(
            entry(
                message_id="nul\0byte",
                correlation_id="\ud800",
                scopes=(),
                upstream_latency_ms=3,
            ),
            b"r",
        )
        await journal.record(
            entry(upstream_latency_ms=float("nan"), version=None, at=datetime(2020, 1, 1)), b"r"
        )
    async with fresh_pool.acquire() as conn:
        assert (await verify(conn, key=JOURNAL_KEY)).ok


def test_pseudonym_is_stable_keyed_and_normalised() -> None:
    subject = {
        "nomNaissance": "Dupont",
        "prenoms": ["Élodie", "Marie"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 1990,
        "nomUsage": None,
    }
    value = pseudonym(subject, key=PSEUDONYM_KEY)
    assert len(value) == 64 and int(value, 16) >= 0
    reordered = {
        "sexeEtatCivil": "f",
        "anneeDateNaissance": 1990,
        "prenoms": ["ELODIE", "MARIE "],
        "nomNaissance": " DUPONT",
    }
    assert pseudonym(reordered, key=PSEUDONYM_KEY) == value
    assert pseudonym(subject, key=b"another key of thirty-two bytes!") != value
    assert pseudonym({**subject, "anneeDateNaissance": 1991}, key=PSEUDONYM_KEY) != value
    assert pseudonym({**subject, "prenoms": ["Marie", "Élodie"]}, key=PSEUDONYM_KEY) != value
    assert "DUPONT" not in value and "1990" not in value


async def test_missing_partition_is_created_on_demand(
    fresh_database: Database, fresh_pool: asyncpg.Pool
) -> None:
    async with connected(fresh_database.admin_url) as admin:
        current = await admin.fetchval("SELECT particulier_ensure_journal_partition(now())")
        await admin.execute(f'DROP TABLE "{current}"')
        async with Journal(fresh_pool, key=JOURNAL_KEY) as journal:
            await journal.record(entry(1), b"r")  # created through the definer function
            await admin.execute(f'DROP TABLE "{current}"')  # gone behind the writer's back
            await journal.record(entry(2), b"r")
        assert await admin.fetchval(f'SELECT count(*) FROM "{current}"') == 1
        owner = await admin.fetchval(
            "SELECT tableowner FROM pg_tables WHERE tablename = $1", current
        )
        assert owner != "particulier_app"
