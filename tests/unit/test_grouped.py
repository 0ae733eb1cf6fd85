"""Group commit: calls made while one is in flight share the next statement."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from broker.db.grouped import Grouped


async def test_calls_made_meanwhile_go_together_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    async def run(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    grouped = Grouped(run)
    first = asyncio.ensure_future(grouped(0))
    await asyncio.sleep(0.001)  # in flight
    results = await asyncio.gather(first, *(grouped(i) for i in range(1, 5)))
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0], [1, 2, 3, 4]], "the first goes at once, the others together"


async def test_a_failure_is_every_callers_of_that_batch_only() -> None:
    calls = 0

    async def run(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ConnectionError("database gone")
        return list(items)

    grouped = Grouped(run)
    first = asyncio.ensure_future(grouped("a"))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(grouped("b"))
    with pytest.raises(ConnectionError):
        await first
    assert await second == "b"


async def test_a_caller_that_gives_up_does_not_stop_the_others() -> None:
    async def run(items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0.01)
        return list(items)

    grouped = Grouped(run)
    await grouped(0)
    leaving = asyncio.ensure_future(grouped(1))
    staying = asyncio.ensure_future(grouped(2))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 2
    assert await grouped(3) == 3


def test_batches_are_bounded() -> None:
    sizes: list[int] = []

    async def run(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return list(items)

    async def main() -> None:
        grouped = Grouped(run, largest=3)
        await asyncio.gather(*(grouped(i) for i in range(8)))

    asyncio.run(main())
    assert max(sizes) <= 3 and sum(sizes) == 8
