"""The rate limit holds across worker processes: two instances do not double it."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from broker.db import create_pool
from broker.errors import BROKER, ProblemError
from broker.habilitations import Habilitations, create_agency, grant
from broker.habilitations.ratelimit import burst_of

from .support import Database, unique

QF = "cnav.quotient_familial"
SCOPES = frozenset({"cnaf_quotient_familial"})


async def _hammer(
    cache: Habilitations, user: str, lane: str, until: float, counts: dict[str, int]
) -> None:
    while time.monotonic() < until:
        try:
            await cache.authorize(requester=user, dataset=QF, dataset_scopes=SCOPES, lane=lane)
            counts["allowed"] += 1
        except ProblemError as exc:
            assert exc.spec is BROKER.RATE_LIMITED
            counts["refused"] += 1
        await asyncio.sleep(0)


async def _run(
    database: Database, user: str, lane: str, instances: int, seconds: float, tasks: int = 16
) -> tuple[int, int, float, int]:
    pools = [await create_pool(database.app_url, min_size=2, max_size=8) for _ in range(instances)]
    caches = [Habilitations(pool) for pool in pools]
    try:
        for cache in caches:
            await cache.start()
        counts = {"allowed": 0, "refused": 0}
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_hammer(c, user, lane, until, counts) for c in caches for _ in range(tasks))
        )
        trips = sum(c.limiter.round_trips for c in caches)
        return counts["allowed"], counts["refused"], seconds, trips
    finally:
        for cache in caches:
            await cache.close()
        for pool in pools:
            await pool.close()


async def _limited_agency(admin_pool: asyncpg.Pool, kind: str, **rates: float) -> str:
    """A new agency (its name starts with ``kind``) granted the family quotient at ``rates``
    (``rate_interactive``, ``rate_bulk``); returns its user."""
    name, user = unique(kind), unique(kind[:3].lower())
    async with admin_pool.acquire() as conn:
        await create_agency(conn, name, siret="21690123100011", user=user)
        await grant(conn, name, {QF: set(SCOPES)}, legal_basis="x", legal_reference="y", **rates)
    return user


async def test_two_instances_share_the_limit(database: Database, admin_pool: asyncpg.Pool) -> None:
    rate, seconds = 40.0, 3.0
    user = await _limited_agency(
        admin_pool, "Departement", rate_interactive=rate, rate_bulk=rate / 2
    )
    expected = rate * seconds + burst_of(rate)
    allowed, refused, _, trips = await _run(database, user, "interactive", 2, seconds)
    print(
        f"\ninteractive, 2 instances, {rate:g}/s over {seconds:g} s: allowed {allowed} "
        f"(limit {expected:g}, {100 * (allowed - expected) / expected:+.1f}%), refused "
        f"{refused}, database round trips {trips}"
    )
    assert refused > allowed  # the instances did try to go well past the limit
    assert abs(allowed - expected) <= 0.1 * expected
    # the bulk lane has its own bucket
    bulk_expected = rate / 2 * seconds + burst_of(rate / 2)
    bulk_allowed, _, _, _ = await _run(database, user, "bulk", 2, seconds)
    print(f"bulk, 2 instances, {rate / 2:g}/s: allowed {bulk_allowed} (limit {bulk_expected:g})")
    assert abs(bulk_allowed - bulk_expected) <= 0.1 * bulk_expected


async def test_cost_of_a_limited_authorize(
    database: Database, admin_pool: asyncpg.Pool, app_pool: asyncpg.Pool
) -> None:
    user = await _limited_agency(admin_pool, "Region", rate_interactive=1e6)
    cache = Habilitations(app_pool)
    await cache.start()
    try:
        n = 2000
        started = time.perf_counter()
        for _ in range(n):
            await cache.authorize(
                requester=user, dataset=QF, dataset_scopes=SCOPES, lane="interactive"
            )
        sequential = (time.perf_counter() - started) / n
        started = time.perf_counter()
        await asyncio.gather(
            *(
                cache.authorize(
                    requester=user, dataset=QF, dataset_scopes=SCOPES, lane="interactive"
                )
                for _ in range(n)
            )
        )
        concurrent = n / (time.perf_counter() - started)
    finally:
        await cache.close()
    print(
        f"\nlimited authorize: {sequential * 1000:.3f} ms sequential, "
        f"{concurrent:.0f}/s with 8 connections"
    )
    assert sequential < 0.02
