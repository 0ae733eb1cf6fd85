"""Group commit for look-ups and writes: one statement for every call made meanwhile.

Under load a worker has many requests at the same step; a statement per request costs a
round trip and the driver's work each time. :class:`Grouped` sends the first call at once and
every call made while it is in flight together in the next statement, so that batches form by
themselves without delaying a lone call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Grouped"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class Grouped(Generic[Item, Result]):
    """``await grouped(item)`` is ``run([item, ...])``'s result for ``item``; ``run`` returns one
    result per item, in order, and its failure is every caller's."""

    def __init__(
        self, run: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], *, largest: int = 500
    ) -> None:
        self._run = run
        self._largest = largest
        self._queued: list[tuple[Item, asyncio.Future[Result]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queued.append((item, done))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        try:
            while self._queued:
                batch = self._queued[: self._largest]
                del self._queued[: self._largest]
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        finally:
            self._draining = None
