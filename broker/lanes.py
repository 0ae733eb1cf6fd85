"""Interactive traffic keeps priority over bulk traffic inside one worker process.

While any interactive request is in flight, at most ``floor`` bulk requests are processed at
once; the others wait at the gate (costing no CPU) and go as soon as the interactive lane is
idle again, up to ``ceiling``. A nightly run thus never holds the event loop that a waiting
person's request needs. Separate processes per lane (``particulier worker --lane``) isolate
the lanes completely.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["LaneGate"]


class LaneGate:
    def __init__(self, *, floor: int, ceiling: int) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.interactive = 0
        self.bulk = 0
        self._changed = asyncio.Condition()

    def _bulk_may_start(self) -> bool:
        return self.bulk < (self.floor if self.interactive else self.ceiling)

    @asynccontextmanager
    async def interactive_request(self) -> AsyncIterator[None]:
        self.interactive += 1
        try:
            yield
        finally:
            self.interactive -= 1
            if self.interactive == 0:
                async with self._changed:
                    self._changed.notify_all()

    @asynccontextmanager
    async def bulk_request(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(self._bulk_may_start)
            self.bulk += 1
        try:
            yield
        finally:
            async with self._changed:
                self.bulk -= 1
                self._changed.notify(1)
