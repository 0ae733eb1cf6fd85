"""The lane gate: while interactive traffic is recent, bulk work on the loop gets a share that
follows the interactive requests (the floor when a person arrives, halved when a request was
slowed down more than ``slowdown`` by its time on the worker past the shortest lately, one
more permit when it was not), and the ceiling once the interactive lane has been quiet for the
hold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge

from broker.runtime import LaneGate


@asynccontextmanager
async def _gate(**settings: Any) -> AsyncIterator[LaneGate]:
    gate = LaneGate(**settings)
    try:
        yield gate
    finally:
        gate.close()


async def _bulk_until(gate: LaneGate, release: asyncio.Event, peaks: list[int]) -> None:
    async with gate.bulk_request():
        peaks.append(gate.bulk)
        await release.wait()


async def _busy(lane: Callable[[], Any], stop: asyncio.Event, seconds: float) -> None:
    """Requests of ``lane`` one after the other until ``stop``, each using the loop for
    ``seconds`` twice around a short wait (a journal commit, say), as a request's steps do."""
    while not stop.is_set():
        async with lane():
            time.sleep(seconds)  # noqa: ASYNC251 (the point: a step that holds the loop)
            await asyncio.sleep(0.002)
            time.sleep(seconds)  # noqa: ASYNC251
        await asyncio.sleep(0)


async def test_a_person_arriving_finds_the_bulk_lane_at_its_floor() -> None:
    async with _gate(floor=2, ceiling=10, hold=0.05, slowdown=100.0) as gate:
        release, peaks = asyncio.Event(), list[int]()
        async with gate.interactive_request():
            tasks = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(20)]
            await asyncio.sleep(0.01)
            assert gate.bulk == 2, "only the floor runs while a person waits"
            assert gate.waiting == 18
        assert gate.bulk == 3, "the request was not delayed: one permit more"
        await asyncio.sleep(0.02)
        assert gate.bulk == 3, "the share holds for a while after the interactive request"
        await asyncio.sleep(0.06)
        assert gate.bulk == 10, "the ceiling applies once the interactive lane has been quiet"
        release.set()
        await asyncio.gather(*tasks)
        assert gate.bulk == 0 and gate.waiting == 0
        assert max(peaks) == 10


async def test_fit_halves_past_the_slowdown_and_adds_one_otherwise() -> None:
    async with (
        _gate(floor=2, ceiling=10, slowdown=0.5, hold=10.0) as gate,
        gate.interactive_request(),
    ):
        gate.fit(0.004)
        assert gate.baseline == 0.004
        for _ in range(20):
            gate.fit(0.005)
        assert gate.share == 10, "never above the ceiling"
        gate.fit(0.004 + 0.003)
        assert gate.share == 5, "7 ms on the worker where 4 would do: slowed by more than half"
        gate.fit(0.012)
        gate.fit(0.012)
        assert gate.share == 2, "never below the floor"
        gate.fit(0.001)
        assert gate.baseline == 0.001, "a shorter time is the new baseline at once"


async def test_the_baseline_follows_a_worker_that_became_slower() -> None:
    async with (
        _gate(floor=1, ceiling=10, slowdown=0.5, hold=10.0) as gate,
        gate.interactive_request(),
    ):
        gate.fit(0.002)
        for _ in range(1000):
            gate.fit(0.050)
        assert gate.baseline is not None and gate.baseline > 0.045
        assert gate.share == 10


async def test_the_slowdown_counts_the_upstream_call() -> None:
    async with _gate(floor=1, ceiling=10, slowdown=0.5, hold=10.0) as gate:
        gate.fit(0.001)
        async with gate.interactive_request() as permit, permit.released():
            await asyncio.sleep(0.03)
        assert gate.share == 2, "30 ms on the upstream are not 30 ms on the worker"
        async with gate.interactive_request():
            await asyncio.sleep(0.03)
        assert gate.share == 1, "30 ms on the worker are"
        gate.fit(0.011, away=0.030)
        assert gate.share == 2, "10 ms more beside a 30 ms upstream call: slowed by a third"


async def test_the_share_shrinks_when_bulk_work_delays_people() -> None:
    """Bulk requests using the loop 1 ms at each step: a person's request, a few steps long,
    waits behind every one of them that is on the loop, so the share falls from the ceiling
    to the few that slow it down less than ``slowdown``."""
    async with _gate(floor=1, ceiling=64, hold=10.0, slowdown=0.5) as gate:
        stop = asyncio.Event()
        gate.fit(0.0005)
        async with gate.interactive_request():
            gate.share = 64
            bulk = [asyncio.create_task(_busy(gate.bulk_request, stop, 0.001)) for _ in range(64)]
            person = asyncio.create_task(_busy(gate.interactive_request, stop, 0.0))
            try:
                shares = []
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    shares.append(gate.share)
                assert max(shares[-20:]) <= 10 and min(shares) >= 1
            finally:
                stop.set()
                await asyncio.gather(*bulk, person)


async def test_an_interactive_flood_keeps_the_bulk_lane_at_its_floor() -> None:
    async with _gate(floor=1, ceiling=16, hold=10.0, slowdown=0.5) as gate:
        stop, release, peaks = asyncio.Event(), asyncio.Event(), list[int]()
        gate.fit(0.002)
        people = [
            asyncio.create_task(_busy(gate.interactive_request, stop, 0.002)) for _ in range(16)
        ]
        bulk = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(16)]
        try:
            await asyncio.sleep(0.3)
            assert gate.share == 1 and gate.bulk == 1, "interactive first"
        finally:
            stop.set()
            release.set()
            await asyncio.gather(*people, *bulk)


async def test_a_new_interactive_request_extends_the_hold() -> None:
    async with _gate(floor=1, ceiling=5, hold=0.08, slowdown=100.0) as gate:
        release, peaks = asyncio.Event(), list[int]()
        async with gate.interactive_request():
            pass
        tasks = [asyncio.create_task(_bulk_until(gate, release, peaks)) for _ in range(5)]
        await asyncio.sleep(0.05)
        async with gate.interactive_request():
            pass
        await asyncio.sleep(0.05)
        assert gate.bulk == gate.share == 3, "the second request restarted the hold"
        await asyncio.sleep(0.06)
        assert gate.bulk == 5
        release.set()
        await asyncio.gather(*tasks)


async def test_interactive_never_waits_at_the_gate() -> None:
    async with _gate(floor=0, ceiling=1) as gate:
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
