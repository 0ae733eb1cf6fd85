"""Per-habilitation, per-lane rate limits shared by every worker process.

A GCRA (generic cell rate algorithm, the "virtual scheduling" form of a token bucket) whose
state, one "theoretical arrival time" per (habilitation, lane), lives in PostgreSQL and is
advanced by one statement that reads the database's clock: all processes draw from the same
bucket, so N workers do not multiply the limit. A limit of ``rate`` per second admits bursts of
``rate`` requests (one second's worth), then one request every ``1/rate`` seconds.

A refusal is remembered locally until the instant it names (no other process can make a
token appear sooner), so a client hammering past its limit costs no database round trip.
"""

from __future__ import annotations

import logging
import math
import time

import asyncpg

from ..db.pool import is_unavailable

__all__ = ["RateLimiter", "burst_of"]

log = logging.getLogger(__name__)

_TAKE = """
INSERT INTO rate_limits AS r (habilitation_id, lane, seen, tat, allowed)
SELECT $1, $2, c.now, c.now + $3, true
FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) AS c
ON CONFLICT (habilitation_id, lane) DO UPDATE SET
    allowed = greatest(r.tat, excluded.seen) - excluded.seen <= $4,
    tat = CASE WHEN greatest(r.tat, excluded.seen) - excluded.seen <= $4
               THEN greatest(r.tat, excluded.seen) + $3
               ELSE r.tat END,
    seen = excluded.seen
RETURNING allowed, tat - seen - $4 AS wait
"""


def burst_of(rate: float) -> float:
    """The burst admitted at ``rate`` requests per second: one second's worth, at least 1."""
    return max(1.0, math.floor(rate))


class RateLimiter:
    """``take`` returns 0 when the request may proceed, else the seconds to wait."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._refused_until: dict[tuple[int, str], float] = {}
        self._local: dict[tuple[int, str], float] = {}
        self._degraded = False
        self.round_trips = 0

    async def take(self, habilitation_id: int, lane: str, rate: float) -> float:
        key = (habilitation_id, lane)
        now = time.monotonic()
        until = self._refused_until.get(key)
        if until is not None:
            if now < until:
                return until - now
            del self._refused_until[key]
        interval = 1.0 / rate
        tolerance = (burst_of(rate) - 1.0) * interval
        try:
            self.round_trips += 1
            row = await self._pool.fetchrow(_TAKE, habilitation_id, lane, interval, tolerance)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            return self._take_locally(key, interval, tolerance)
        if self._degraded:
            self._degraded = False
            log.warning("rate limits shared again through PostgreSQL")
        if row["allowed"]:
            return 0.0
        wait = max(float(row["wait"]), 0.0)
        self._refused_until[key] = now + wait
        return wait

    def _take_locally(self, key: tuple[int, str], interval: float, tolerance: float) -> float:
        """During a database outage: the same algorithm, per process (lenient, not stopped).

        No data reply can be sent meanwhile anyway (the journal is unreachable too).
        """
        if not self._degraded:
            self._degraded = True
            log.warning("PostgreSQL unreachable: rate limits enforced per process until it returns")
        now = time.monotonic()
        tat = max(self._local.get(key, now), now)
        if tat - now > tolerance:
            return tat - now - tolerance
        self._local[key] = tat + interval
        return 0.0
