"""``particulier demo``: the whole path on this machine, from a fresh start to a summary."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from rich.console import Console
from rich.table import Table

from .client import Client, ReplyTimeout
from .config import settings
from .population import Population

__all__ = ["run_demo", "started"]

DATASET = "cnav.quotient_familial"
RECIPIENT = "13002526500013"


@asynccontextmanager
async def started(args: list[str], ready_url: str, *, timeout: float = 30.0) -> AsyncIterator[None]:
    """Run ``particulier ARGS`` until the block ends; wait until ``ready_url`` answers 200."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "broker.cli", *args, env=os.environ.copy()
    )
    try:
        ends = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"particulier {args[0]} exited with {process.returncode}")
                try:
                    if (await http.get(ready_url, timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > ends:
                    raise RuntimeError(f"particulier {args[0]} not ready after {timeout:.0f}s")
                await asyncio.sleep(0.2)
        yield
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run_demo(count: int, concurrency: int, latency_ms: float) -> int:
    console = Console()
    config = settings()
    sim_port = int(config.simulator_url.rsplit(":", 1)[1].split("/")[0])
    async with AsyncExitStack() as stack:
        console.print(
            f"[bold]Starting[/] the simulators (latency {latency_ms:.0f} ms) and a CNAV worker…"
        )
        await stack.enter_async_context(
            started(
                [
                    "simulator",
                    "--port",
                    str(sim_port),
                    "--latency-ms",
                    str(latency_ms),
                    "--jitter-ms",
                    str(latency_ms / 5),
                ],
                f"{config.simulator_url}/_admin/health",
            )
        )
        await stack.enter_async_context(
            started(
                ["worker", "cnav", "--metrics-port", str(config.metrics_port)],
                f"http://127.0.0.1:{config.metrics_port}/healthz",
            )
        )
        population = Population()
        statuses: Counter[str] = Counter()
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)
        console.print(f"Checking {count} synthetic households against [bold]{DATASET}[/]…")

        async with Client() as client:

            async def one(index: int) -> None:
                async with gate:
                    sent = time.perf_counter()
                    try:
                        reply = await client.request(
                            DATASET,
                            population.person(index).params(),
                            recipient=RECIPIENT,
                            timeout=30,
                        )
                    except ReplyTimeout:
                        statuses["timeout"] += 1
                        return
                    latencies.append(time.perf_counter() - sent)
                    code = reply.body.errors[0].code if reply.body.errors else ""
                    statuses[f"{reply.status} {code}".strip()] += 1

            began = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(count)))
            elapsed = time.perf_counter() - began

        table = Table(title=f"{count} requests, {DATASET}", min_width=60)
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for outcome, n in sorted(statuses.items()):
            table.add_row(outcome, str(n))
        console.print(table)
        if latencies:
            cuts = statistics.quantiles(latencies, n=100)
            console.print(
                f"throughput {count / elapsed:,.0f} req/s over {elapsed:.2f} s; "
                f"latency p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms "
                f"(simulated upstream {latency_ms:.0f} ms)"
            )
    return 0 if statuses and "timeout" not in statuses else 1
