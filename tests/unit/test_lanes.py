"""The lane gate: bulk work shrinks to its floor while interactive work is in flight."""

from __future__ import annotations

import asyncio

from broker.lanes import LaneGate


async def test_bulk_yields_to_interactive_then_resumes() -> None:
    gate = LaneGate(floor=2, ceiling=10)
    peak = {"idle": 0, "busy": 0}
    phase = "busy"
    release = asyncio.Event()

    async def bulk() -> None:
        async with gate.bulk_request():
            peak[phase] = max(peak[phase], gate.bulk)
            await release.wait()

    async with gate.interactive_request():
        tasks = [asyncio.create_task(bulk()) for _ in range(20)]
        await asyncio.sleep(0.01)
        assert gate.bulk == 2, "only the floor runs while a person waits"
        phase = "idle"
    await asyncio.sleep(0.01)
    assert gate.bulk == 10, "the ceiling applies once the interactive lane is idle"
    release.set()
    await asyncio.gather(*tasks)
    assert gate.bulk == 0
    assert peak == {"busy": 2, "idle": 10}


async def test_interactive_never_waits_at_the_gate() -> None:
    gate = LaneGate(floor=0, ceiling=1)
    hold = asyncio.Event()

    async def bulk() -> None:
        async with gate.bulk_request():
            await hold.wait()

    task = asyncio.create_task(bulk())
    await asyncio.sleep(0)
    async with asyncio.timeout(0.5), gate.interactive_request():
        assert gate.interactive == 1
    hold.set()
    await task
