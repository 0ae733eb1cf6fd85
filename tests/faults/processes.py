"""Workers as processes of their own, and what the fault tests send them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from broker import registry, topology
from broker.sdk import connect
from broker.simulation import Population

from ..conftest import Simulator, free_port


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    metrics_url: str
    log: str
    """The worker's output (its log), a file kept for a failing test to show."""

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self) -> int:
        return self.process.wait()

    async def metric(self, name: str) -> float | None:
        """The value of an unlabelled metric the worker exports, if it does."""
        async with httpx.AsyncClient() as http:
            text = (await http.get(self.metrics_url)).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None


@asynccontextmanager
async def worker_process(
    amqp_url: str | Sequence[str], simulator: Simulator, provider: str = "cnav"
) -> AsyncIterator[WorkerProcess]:
    """``particulier worker <provider>`` on ``amqp_url`` (a cluster's nodes, comma separated),
    ready once its health check answers; SIGTERM at the end unless already killed."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (the process writes it; kept)
        prefix=f"particulier-worker-{provider}-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "PARTICULIER_AMQP_URL": amqp_url if isinstance(amqp_url, str) else ",".join(amqp_url),
        "PARTICULIER_SIMULATOR_URL": simulator.url,
    }
    process = subprocess.Popen(  # noqa: ASYNC220 (returns at once; stopped below)
        [
            sys.executable,
            "-m",
            "broker.tooling.cli",
            "worker",
            provider,
            "--processes",
            "1",
            "--metrics-port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    print(f"worker {provider} logs to {log.name}")
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, "worker exited"
                await asyncio.sleep(0.1)
        yield WorkerProcess(process, f"http://127.0.0.1:{port}/metrics", log.name)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


async def apply_topology(amqp_url: str | Sequence[str]) -> None:
    connection = await connect(amqp_url, name="particulier-test")
    async with connection:
        await topology.apply(await connection.channel(), registry.providers())


def found_people(count: int, start: int) -> list[dict[str, object]]:
    """``count`` synthetic people whom every provider knows, from the ``start``-th on."""
    population = Population(1_000_000)
    people = (population.person(i) for i in range(start, start + 2 * count))
    return [p.params() for p in people if p.found][:count]
