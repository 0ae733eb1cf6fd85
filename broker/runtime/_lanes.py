"""Interactive traffic keeps priority over bulk traffic inside one worker process.

A person waiting at a counter and a nightly run share the worker's event loop. Whatever runs
on that loop delays every other step queued on it, so the gate bounds the bulk *work on the
loop*, not the bulk messages delivered:

- a bulk request holds a permit while it uses the loop (validation, sealing, journal,
  publishing) and gives it back while it waits for its upstream, so a slow provider's
  latency is still hidden by many bulk calls in flight;
- while interactive traffic is *recent* (a request in flight, or one finished less than
  ``hold`` seconds ago) at most ``floor`` permits are out; once the interactive lane has been
  quiet for ``hold`` seconds, up to ``ceiling``. The hold keeps the bulk lane from rushing
  back into every gap between two interactive requests;
- a bulk request back from its upstream is served before one that has not started, so the
  work already paid for finishes first.

Interactive requests never wait at the gate. Separate processes per lane
(``particulier worker --lane``) isolate the lanes completely.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Gauge

__all__ = ["LaneGate", "Permit"]


class Permit:
    """A request's hold on the loop; an interactive request's is unlimited."""

    def __init__(self, gate: LaneGate | None) -> None:
        self._gate = gate
        self.held = gate is not None

    @asynccontextmanager
    async def released(self) -> AsyncIterator[None]:
        """Give the permit back while awaiting I/O that costs the loop nothing."""
        gate = self._gate
        if gate is None or not self.held:
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
        self, *, floor: int, ceiling: int, hold: float = 1.0, held_back: Gauge | None = None
    ) -> None:
        self.floor = max(floor, 0)
        self.ceiling = max(ceiling, self.floor, 1)
        self.hold = hold
        self.interactive = 0
        self.bulk = 0
        self._recent_until = float("-inf")
        self._starting: deque[asyncio.Future[None]] = deque()
        self._resuming: deque[asyncio.Future[None]] = deque()
        self._calm: asyncio.TimerHandle | None = None
        self._held_back = held_back

    @property
    def limit(self) -> int:
        """Permits that may be out now."""
        if self.interactive or asyncio.get_running_loop().time() < self._recent_until:
            return self.floor
        return self.ceiling

    @property
    def waiting(self) -> int:
        """Bulk requests delivered and waiting for a permit."""
        return len(self._starting) + len(self._resuming)

    @asynccontextmanager
    async def interactive_request(self) -> AsyncIterator[Permit]:
        self.interactive += 1
        try:
            yield Permit(None)
        finally:
            self.interactive -= 1
            if self.interactive == 0:
                self._quiet()

    @asynccontextmanager
    async def bulk_request(self) -> AsyncIterator[Permit]:
        await self._acquire(resuming=False)
        permit = Permit(self)
        try:
            yield permit
        finally:
            if permit.held:
                self._release()

    def _quiet(self) -> None:
        """The interactive lane just emptied: the floor holds for ``hold`` more seconds."""
        loop = asyncio.get_running_loop()
        self._recent_until = loop.time() + self.hold
        if self._calm is not None:
            self._calm.cancel()
        self._calm = loop.call_at(self._recent_until, self._admit)

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
