"""The lane gate: bulk work on the loop shrinks to its floor while interactive traffic is
recent, and grows back once the interactive lane has been quiet for the hold."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Gauge

from broker.runtime import LaneGate


async def _bulk_until(gate: LaneGate, release: asyncio.Event, peaks: list[int]) -> None:
    async with gate.bulk_request():
        peaks.append(gate.bulk)
        await release.wait()


async def test_bulk_yields_to_interactive_then_resumes_after_the_hold() -> None:
    gate = LaneGate(floor=2, ceiling=10, hold=0.05)
    release, peaks = asyncio.Event(), list[int]()
    async with gate.interactive_request():
        tasks = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(20)]
        await asyncio.sleep(0.01)
        assert gate.bulk == 2, "only the floor runs while a person waits"
        assert gate.waiting == 18
    await asyncio.sleep(0.02)
    assert gate.bulk == 2, "the floor holds for a while after the interactive request"
    await asyncio.sleep(0.06)
    assert gate.bulk == 10, "the ceiling applies once the interactive lane has been quiet"
    release.set()
    await asyncio.gather(*tasks)
    assert gate.bulk == 0 and gate.waiting == 0
    assert max(peaks) == 10


async def test_a_new_interactive_request_extends_the_hold() -> None:
    gate = LaneGate(floor=1, ceiling=5, hold=0.08)
    release, peaks = asyncio.Event(), list[int]()
    async with gate.interactive_request():
        pass
    tasks = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(5)]
    await asyncio.sleep(0.05)
    async with gate.interactive_request():
        pass
    await asyncio.sleep(0.05)
    assert gate.bulk == 1, "the second request restarted the hold"
    await asyncio.sleep(0.06)
    assert gate.bulk == 5
    release.set()
    await asyncio.gather(*tasks)


async def test_interactive_never_waits_at_the_gate() -> None:
    gate = LaneGate(floor=0, ceiling=1)
    release, peaks = asyncio.Event(), list[int]()
    task = asyncio.create_task(_bulk_until(gate, release, peaks))
    await asyncio.sleep(0)
    async with asyncio.timeout(0.5), gate.interactive_request() as permit:
        assert gate.interactive == 1
        async with permit.released():
            assert gate.bulk == 1, "an interactive permit is not a bulk one"
    release.set()
    await task


async def test_a_bulk_request_waiting_on_its_upstream_holds_no_permit() -> None:
    gate = LaneGate(floor=1, ceiling=1)
    upstream, holder_release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def slow_call(name: str) -> None:
        async with gate.bulk_request() as permit:
            order.append(f"{name} starts")
            async with permit.released():
                await upstream.wait()
            order.append(f"{name} resumes")

    calls = [asyncio.create_task(slow_call("a")), asyncio.create_task(slow_call("b"))]
    await asyncio.sleep(0.01)
    assert order == ["a starts", "b starts"], "a slow upstream does not serialise bulk calls"
    assert gate.bulk == 0
    holder = asyncio.create_task(_bulk_until(gate, holder_release, []))
    await asyncio.sleep(0)
    upstream.set()
    await asyncio.sleep(0.01)
    calls.append(asyncio.create_task(slow_call("c")))
    await asyncio.sleep(0.01)
    assert order == ["a starts", "b starts"] and gate.waiting == 3
    holder_release.set()
    upstream.clear()
    await asyncio.sleep(0.01)
    assert order == ["a starts", "b starts", "a resumes", "b resumes", "c starts"], (
        "work already paid for goes first"
    )
    upstream.set()
    await asyncio.gather(holder, *calls)
    assert gate.bulk == 0


async def test_cancelled_waiters_leak_no_permit() -> None:
    gate = LaneGate(floor=1, ceiling=1)
    release, peaks = asyncio.Event(), list[int]()
    holder = asyncio.create_task(_bulk_until(gate, release, peaks))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await waiters[0]
    await asyncio.gather(holder, *waiters[1:])
    assert gate.bulk == 0 and gate.waiting == 0
    assert peaks == [1, 1, 1]


async def test_cancelled_while_resuming_from_upstream_leaks_no_permit() -> None:
    gate = LaneGate(floor=1, ceiling=1)
    upstream = asyncio.Event()
    holder_release = asyncio.Event()
    peaks: list[int] = []

    async def slow_call() -> None:
        async with gate.bulk_request() as permit, permit.released():
            await upstream.wait()

    call = asyncio.create_task(slow_call())
    await asyncio.sleep(0)
    holder = asyncio.create_task(_bulk_until(gate, holder_release, peaks))
    await asyncio.sleep(0)
    upstream.set()
    await asyncio.sleep(0.01)
    assert gate.waiting == 1, "back from upstream, waiting for the holder"
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    holder_release.set()
    await holder
    assert gate.bulk == 0 and gate.waiting == 0


async def test_the_held_back_gauge_counts_the_waiters_of_every_gate() -> None:
    registry = CollectorRegistry()
    held_back = Gauge("held_back", "waiting at the gate", registry=registry)
    gates = [LaneGate(floor=1, ceiling=1, held_back=held_back) for _ in range(2)]
    release, peaks = asyncio.Event(), list[int]()
    tasks = [
        asyncio.create_task(_bulk_until(gate, release, peaks)) for gate in gates for _ in range(3)
    ]
    await asyncio.sleep(0.01)
    assert registry.get_sample_value("held_back") == 4
    tasks[1].cancel()
    await asyncio.sleep(0)
    assert registry.get_sample_value("held_back") == 3
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert registry.get_sample_value("held_back") == 0
