"""Load generators over the SDK: closed loop (fixed concurrency) and open loop (paced).

Also a command, used as a separate process for the bulk flood of the lane-priority case::

    python -m benchmarks.load --url AMQP --jwks FILE --lane bulk --concurrency 512 --duration 30

prints one JSON line with what it did.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.sdk import Client, ParticulierError
from broker.sdk.contract import Lane
from broker.simulation import Population

from .stats import percentiles

__all__ = [
    "DATASET",
    "RECIPIENT",
    "LoadResult",
    "closed_loop",
    "open_loop",
    "paced",
    "request_params",
]

DATASET = "cnav.quotient_familial"
RECIPIENT = "13002526500013"
_POPULATION = Population(1_000_000)


def request_params(count: int, offset: int = 0) -> list[dict[str, Any]]:
    """The params of ``count`` synthetic people (5% unknown to the simulator, as configured)."""
    size = _POPULATION.size
    return [dict(_POPULATION.person((offset + i) % size).params()) for i in range(count)]


@dataclass
class LoadResult:
    sent: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds, in completion order, one per answered request."""
    message_ids: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.answered / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "elapsed_s": round(self.elapsed, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": percentiles(self.latencies),
            "statuses": dict(self.statuses),
            "failures": dict(self.failures),
        }


Params = Callable[[int], Mapping[str, Any]]


async def _one(
    client: Client,
    params: Mapping[str, Any],
    result: LoadResult,
    started: float,
    lane: Lane,
    timeout: float,
) -> None:
    result.sent += 1
    try:
        reply = await client.request(
            DATASET, params, recipient=RECIPIENT, timeout=timeout, lane=lane
        )
    except ParticulierError as exc:
        result.failures[type(exc).__name__] += 1
        return
    result.latencies.append(time.perf_counter() - started)
    result.message_ids.append(reply.message_id)
    code = reply.body.errors[0].code if reply.body.errors else ""
    result.statuses[f"{reply.status} {code}".strip()] += 1


async def closed_loop(
    client: Client,
    params: Params,
    *,
    concurrency: int,
    count: int | None = None,
    duration: float | None = None,
    lane: Lane = Lane.INTERACTIVE,
    timeout: float = 120.0,
    stop: asyncio.Event | None = None,
    result: LoadResult | None = None,
) -> LoadResult:
    """``concurrency`` requests always in flight, until ``count`` are sent or ``duration``
    seconds have passed (or ``stop`` is set). ``result`` may be passed to watch progress."""
    result = result if result is not None else LoadResult()
    counter = iter(range(count if count is not None else sys.maxsize))
    began = time.perf_counter()
    ends = began + duration if duration is not None else float("inf")

    async def runner() -> None:
        for index in counter:
            if time.perf_counter() >= ends or (stop is not None and stop.is_set()):
                return
            await _one(client, params(index), result, time.perf_counter(), lane, timeout)

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - began
    return result


async def open_loop(
    client: Client,
    params: Params,
    *,
    rate: float,
    duration: float,
    lane: Lane = Lane.INTERACTIVE,
    timeout: float = 60.0,
) -> LoadResult:
    """Requests sent at ``rate`` per second for ``duration`` seconds whatever the replies do;
    latency runs from each request's scheduled time (no coordinated omission)."""
    result = LoadResult()
    began = time.perf_counter()
    await paced(
        lambda index, scheduled: _one(client, params(index), result, scheduled, lane, timeout),
        rate=rate,
        count=int(rate * duration),
        began=began,
    )
    result.elapsed = time.perf_counter() - began
    return result


async def paced(
    send: Callable[[int, float], Coroutine[Any, Any, None]],
    *,
    rate: float,
    count: int,
    began: float,
) -> None:
    """Start ``send(index, scheduled)`` for ``count`` requests at ``rate`` per second from
    ``began``, whatever the replies do, then wait for them all: the open loop of the SDK, the
    baseline and the gateway clients, so that each measures latency from the same schedule."""
    tasks: list[asyncio.Task[None]] = []
    for index in range(count):
        scheduled = began + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(index, scheduled)))
    await asyncio.gather(*tasks)


async def _flood(args: argparse.Namespace, jwks: dict[str, Any] | None) -> dict[str, Any]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Client(args.url, lane=Lane(args.lane), verify=jwks is not None, jwks=jwks) as c:
        result = await closed_loop(
            c,
            lambda i: _POPULATION.person((args.offset + i) % _POPULATION.size).params(),
            concurrency=args.concurrency,
            duration=args.duration,
            lane=Lane(args.lane),
            stop=stop,
        )
    summary = result.summary()
    summary.pop("latency_ms", None)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description="A closed-loop load of the broker path.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--jwks", help="JWKS file; without it replies are not verified")
    parser.add_argument("--lane", default="bulk", choices=[lane.value for lane in Lane])
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--offset", type=int, default=500_000)
    args = parser.parse_args()
    jwks = json.loads(Path(args.jwks).read_text()) if args.jwks else None
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(asyncio.run(_flood(args, jwks))), flush=True)


if __name__ == "__main__":
    main()
