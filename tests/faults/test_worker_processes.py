"""``particulier worker --processes N``: N worker processes from one command, a dead one
started again, all stopped together, none outliving the command."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.sdk import Client

from ..conftest import Simulator
from .processes import apply_topology, found_people

pytestmark = pytest.mark.slow

SIRET = "13002526500013"


def two_free_ports() -> int:
    """A port free with the next one (the second process's metrics)."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port


def children_of(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    return sorted(
        int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split()
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


async def healthy(port: int, seconds: float = 30) -> None:
    ends = time.monotonic() + seconds
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < ends, f"no worker ready on {port}"
            await asyncio.sleep(0.1)


async def gone(pids: list[int], seconds: float) -> None:
    ends = time.monotonic() + seconds
    while any(alive(p) for p in pids):
        assert time.monotonic() < ends, "a worker outlived its command"
        await asyncio.sleep(0.2)


@pytest.fixture
def command(vhost_url: str, simulator: Simulator) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = two_free_ports()
    env = {
        **os.environ,
        "PARTICULIER_AMQP_URL": vhost_url,
        "PARTICULIER_SIMULATOR_URL": simulator.url,
    }
    cli = [sys.executable, "-m", "broker.tooling.cli"]
    parent = subprocess.Popen(
        [*cli, "worker", "cnav", "--processes", "2", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield parent, port
    if parent.poll() is None:
        parent.kill()
        parent.wait()


async def test_two_processes_answer_and_one_killed_is_started_again(
    command: tuple[subprocess.Popen[bytes], int], vhost_url: str
) -> None:
    parent, port = command
    await apply_topology(vhost_url)
    await healthy(port)
    await healthy(port + 1)
    first, second = children_of(parent.pid)
    people = found_people(200, start=600_000)
    async with Client(vhost_url) as client:
        replies = await asyncio.gather(
            *(client.request("cnav.quotient_familial", p, recipient=SIRET) for p in people)
        )
        assert [r.status for r in replies] == [200] * len(people)
        os.kill(first, signal.SIGKILL)
        await gone([first], 5)
        await healthy(port, seconds=60)
        (again,) = [p for p in children_of(parent.pid) if p != second]
        assert again != first
        reply = await client.request("cnav.quotient_familial", people[0], recipient=SIRET)
        assert reply.status == 200
    parent.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(parent.wait, 60) == 0
    await gone([again, second], 5)


async def test_the_workers_end_with_their_command_killed(
    command: tuple[subprocess.Popen[bytes], int],
) -> None:
    parent, port = command
    await healthy(port)
    await healthy(port + 1)
    workers = children_of(parent.pid)
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    await gone(workers, 45)
