"""Interactive traffic keeps priority over bulk traffic inside one worker process.

A person waiting at a counter and a nightly run share the worker's event loop. Whatever runs
on that loop delays every other step queued on it, so the gate bounds the bulk *work on the
loop*, not the bulk messages delivered:

- a bulk request holds a permit while it uses the loop (validation, sealing, journal,
  publishing) and gives it back while it waits for its upstream, so a slow provider's
  latency is still hidden by many bulk calls in flight;
- while interactive traffic is *recent* (a request in flight, or one finished less than
  ``hold`` seconds ago) the bulk lane gets a *share* of permits that follows what the
  interactive requests themselves measure. Each one, as it ends, tells the gate how long it
  spent on the worker and how long on its upstream; the gate keeps the shortest time on the
  worker seen lately (what a request costs when nothing is in its way). A request slowed
  down by more than ``slowdown`` (0.25: it took a quarter longer than it would have with
  that shortest time, its upstream call included) halves the share; one that was not gives
  the bulk lane one permit more. A clerk asking now and then is rarely in anyone's way, and
  the share grows until the bulk work would slow them down; under a flood of interactive
  requests they delay each other, and the share stays at ``floor``. Once the interactive
  lane has been quiet for ``hold`` seconds, the limit is ``ceiling``;
- the first interactive request after a quiet spell finds the share at ``floor``: nobody's
  request waits behind a ceiling of bulk work;
- a bulk request back from its upstream is served before one that has not started, so the
  work already paid for finishes first.

Interactive requests never wait at the gate. Separate processes per lane
(``particulier worker --lane``) isolate the lanes completely.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Gauge

__all__ = ["LaneGate", "Permit"]

BASELINE_RISE = 0.01
"""How fast the shortest recent time on the worker follows longer ones (per request), so that
it tracks a worker that became slower (a heavier dataset, a busier machine)."""


class Permit:
    """A request's hold on the loop; an interactive request's is unlimited and only counts the
    time it spends waiting for its upstream."""

    def __init__(self, gate: LaneGate | None) -> None:
        self._gate = gate
        self.held = gate is not None
        self.away = 0.0
        """Seconds spent inside :meth:`released` (waiting for the upstream)."""

    @asynccontextmanager
    async def released(self) -> AsyncIterator[None]:
        """Give the permit back while awaiting I/O that costs the loop nothing (an
        interactive request's: count the time away, which the gate leaves out)."""
        gate = self._gate
        if gate is None:
            left = time.monotonic()
            try:
                yield
            finally:
                self.away += time.monotonic() - left
            return
        if not self.held:
            yield
            return
        self.held = False
        gate._release()
        try:
            yield
        finally:
            await gate._acquire(resuming=True)
            self.held = True


class LaneGate:
    def __init__(
        self,
        *,
        floor: int,
        ceiling: int,
        hold: float = 1.0,
        slowdown: float = 0.25,
        held_back: Gauge | None = None,
        limit_gauge: Gauge | None = None,
    ) -> None:
        self.floor = max(floor, 0)
        self.ceiling = max(ceiling, self.floor, 1)
        self.hold = hold
        self.slowdown = slowdown
        self.interactive = 0
        self.bulk = 0
        self.share = self.floor
        """Permits the bulk lane may hold while interactive traffic is recent."""
        self.baseline: float | None = None
        """The shortest time an interactive request spent on the worker lately (seconds)."""
        self._recent_until = float("-inf")
        self._starting: deque[asyncio.Future[None]] = deque()
        self._resuming: deque[asyncio.Future[None]] = deque()
        self._calm: asyncio.TimerHandle | None = None
        self._held_back = held_back
        self._limit_gauge = limit_gauge
        if limit_gauge is not None:
            limit_gauge.set(self.ceiling)

    @property
    def recent(self) -> bool:
        """Whether interactive traffic is in flight or ended less than ``hold`` seconds ago."""
        return bool(self.interactive) or time.monotonic() < self._recent_until

    @property
    def limit(self) -> int:
        """Permits that may be out now."""
        return self.share if self.recent else self.ceiling

    @property
    def waiting(self) -> int:
        """Bulk requests delivered and waiting for a permit."""
        return len(self._starting) + len(self._resuming)

    @asynccontextmanager
    async def interactive_request(self) -> AsyncIterator[Permit]:
        if not self.recent:
            self.share = self.floor
            self._show_limit()
        self.interactive += 1
        permit = Permit(None)
        started = time.monotonic()
        try:
            yield permit
        finally:
            self.interactive -= 1
            if self.interactive == 0:
                self._quiet()
            self.fit(time.monotonic() - started - permit.away, permit.away)

    @asynccontextmanager
    async def bulk_request(self) -> AsyncIterator[Permit]:
        await self._acquire(resuming=False)
        permit = Permit(self)
        try:
            yield permit
        finally:
            if permit.held:
                self._release()

    def fit(self, on_worker: float, away: float = 0.0) -> None:
        """Fit the bulk share to an interactive request that spent ``on_worker`` seconds on the
        worker and ``away`` on its upstream: halved if it took more than ``slowdown`` times
        longer than with the baseline's time on the worker, else one more permit (up to
        ``ceiling``)."""
        baseline = self.baseline
        if baseline is None or on_worker < baseline:
            self.baseline = baseline = on_worker
        else:
            self.baseline = baseline + (on_worker - baseline) * BASELINE_RISE
        if on_worker - baseline > self.slowdown * (baseline + away):
            self.share = max(self.floor, self.share // 2)
        elif self.share < self.ceiling:
            self.share += 1
        self._show_limit()
        self._admit()

    def _quiet(self) -> None:
        """The interactive lane just emptied: the share holds for ``hold`` more seconds."""
        self._recent_until = time.monotonic() + self.hold
        if self._calm is not None:
            self._calm.cancel()
        self._calm = asyncio.get_running_loop().call_later(self.hold, self._calmed)

    def _calmed(self) -> None:
        """The hold is over (unless a request came since): the ceiling applies."""
        self._show_limit()
        self._admit()

    def close(self) -> None:
        """Forget the pending end of the hold (a worker stopping)."""
        if self._calm is not None:
            self._calm.cancel()

    def _show_limit(self) -> None:
        if self._limit_gauge is not None:
            self._limit_gauge.set(self.limit)

    async def _acquire(self, *, resuming: bool) -> None:
        queue = self._resuming if resuming else self._starting
        ahead = len(self._resuming) if resuming else self.waiting
        if not ahead and self.bulk < self.limit:
            self.bulk += 1
            return
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        if self._held_back is not None:
            self._held_back.inc()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()
            elif turn in queue:
                queue.remove(turn)
                self._left_queue()
            raise

    def _release(self) -> None:
        self.bulk -= 1
        self._admit()

    def _admit(self) -> None:
        """Hand permits to waiters, the resuming first, while the limit allows."""
        limit = self.limit
        while self.bulk < limit and (self._resuming or self._starting):
            turn = (self._resuming or self._starting).popleft()
            self._left_queue()
            if not turn.done():
                self.bulk += 1
                turn.set_result(None)

    def _left_queue(self) -> None:
        if self._held_back is not None:
            self._held_back.dec()
