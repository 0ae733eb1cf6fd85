"""What the idempotency lookup costs: ``Journal.replay`` for a message_id never seen.

Every request now asks the journal whether its ``message_id`` was answered before (issue 11),
not only redelivered ones. This times that lookup against a ``replies`` table holding
``--rows`` replies, one at a time and ``--concurrency`` at once (the worker's prefetch), and
reads the CPU of the PostgreSQL backends it used.

    python -m benchmarks.bench_replay [--rows 100000] [--lookups 20000] [--concurrency 256]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from broker.certification import reply_digest
from broker.config import settings
from broker.db import create_pool
from broker.journal import Journal, JournalEntry

REQUESTER = "bench_replay"


def _entry(message_id: str, reply: bytes) -> JournalEntry:
    return JournalEntry(
        at=datetime.now(UTC),
        message_id=message_id,
        correlation_id=message_id,
        requester=REQUESTER,
        agency=None,
        habilitation_id=None,
        recipient=None,
        dataset="cnav.quotient_familial",
        version=3,
        lane="bulk",
        scopes=(),
        status=200,
        error_code=None,
        upstream_latency_ms=None,
        cached=False,
        reply_digest=reply_digest(reply),
        subject=None,
    )


def _backend_cpu_ms() -> float:
    """CPU of every PostgreSQL process, in ms (``utime + stime`` from ``/proc``)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as f:
                if not f.read().startswith("postgres"):
                    continue
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    pool = await create_pool(settings().database_url)
    journal = Journal(pool)
    await journal.start()
    reply = b'{"status":200,"data":{}}' * 40
    present = await pool.fetchval("SELECT count(*) FROM replies WHERE requester = $1", REQUESTER)
    for _ in range(present, args.rows, 1000):
        await asyncio.gather(
            *(journal.record(_entry(uuid.uuid4().hex, reply), reply) for _ in range(1000))
        )
    print(f"replies table: {await pool.fetchval('SELECT count(*) FROM replies'):,} rows")

    single: list[float] = []
    for _ in range(min(args.lookups, 2000)):
        started = time.perf_counter()
        assert await journal.replay(REQUESTER, uuid.uuid4().hex) is None
        single.append(time.perf_counter() - started)
    quantiles = statistics.quantiles(single, n=100)
    print(f"one at a time: p50 {quantiles[49] * 1e3:.3f} ms, p99 {quantiles[98] * 1e3:.3f} ms")

    semaphore = asyncio.Semaphore(args.concurrency)

    async def lookup() -> None:
        async with semaphore:
            await journal.replay(REQUESTER, uuid.uuid4().hex)

    cpu = _backend_cpu_ms()
    started = time.perf_counter()
    await asyncio.gather(*(lookup() for _ in range(args.lookups)))
    elapsed = time.perf_counter() - started
    cpu = _backend_cpu_ms() - cpu
    print(
        f"{args.concurrency} at once: {args.lookups / elapsed:,.0f} lookups/s, "
        f"PostgreSQL CPU {cpu / args.lookups:.3f} ms per lookup"
    )
    await journal.close()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
