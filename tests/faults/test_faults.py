"""Crash and restart tests: a worker killed with SIGKILL, RabbitMQ stopped and started.

They run workers as separate processes on a vhost of their own, so that the session's
in-process worker does not take their traffic.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import time

import aio_pika
import asyncpg
import pytest

from broker.sdk import Client, Lane, Reply
from broker.sdk.contract import DEAD_QUEUE
from broker.topology import queue_name

from ..conftest import Services, Simulator
from .processes import apply_topology, found_people, worker_process

pytestmark = pytest.mark.slow

DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"


async def test_worker_killed_mid_run_loses_nothing(vhost_url: str, simulator: Simulator) -> None:
    await apply_topology(vhost_url)
    simulator.faults("cnav").latency_ms = 100
    people = found_people(1000, start=200_000)
    received_before = simulator.received("cnav")
    async with Client(vhost_url) as client:
        async with worker_process(vhost_url, simulator) as first:
            calls = [
                asyncio.ensure_future(client.request(DATASET, p, recipient=SIRET, timeout=120))
                for p in people
            ]
            await asyncio.sleep(0.8)
            done_before_kill = sum(c.done() for c in calls)
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert done_before_kill < len(people), "the run ended before the kill: make it longer"
        async with worker_process(vhost_url, simulator):
            replies: list[Reply] = await asyncio.gather(*calls)
    assert [r.status for r in replies] == [200] * len(people)
    for person, reply in zip(people, replies, strict=True):
        assert reply.data is not None
        assert reply.data["allocataires"][0]["nom_naissance"] == person["nomNaissance"]
    assert len({r.correlation_id for r in replies}) == len(people)
    # Only requests in flight at the kill could be asked upstream twice.
    upstream_calls = simulator.received("cnav") - received_before
    assert len(people) <= upstream_calls <= len(people) + 256 + 128


async def test_rabbitmq_restart_during_a_run_answers_every_request(
    vhost_url: str, simulator: Simulator
) -> None:
    await apply_topology(vhost_url)
    simulator.faults("cnav").latency_ms = 50
    people = found_people(400, start=300_000)
    async with worker_process(vhost_url, simulator), Client(vhost_url) as client:
        calls = [
            asyncio.ensure_future(client.request(DATASET, p, recipient=SIRET, timeout=150))
            for p in people
        ]
        await asyncio.sleep(0.3)
        await asyncio.to_thread(
            subprocess.run, ["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True
        )
        await asyncio.sleep(2)
        await asyncio.to_thread(
            subprocess.run, ["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True
        )
        await asyncio.to_thread(
            subprocess.run, ["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True
        )
        started = time.monotonic()
        replies: list[Reply] = await asyncio.gather(*calls)
    assert [r.status for r in replies] == [200] * len(people)
    assert time.monotonic() - started < 150


def _close_connections(vhost: str, name: str) -> int:
    """Close, from RabbitMQ's side, the connections of ``vhost`` named ``name``."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "-p", vhost, "pid", "client_properties"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pids = [line.split("\t", 1)[0] for line in listed.splitlines() if f'"{name}"' in line]
    for pid in pids:
        subprocess.run(
            ["rabbitmqctl", "-q", "close_connection", pid, "test"], check=True, capture_output=True
        )
    return len(pids)


async def test_a_request_lost_while_the_client_reconnects_is_asked_again(
    vhost_url: str, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's connection lost, and the request it had sent lost too (here purged from
    its lane queue, as a node's failure can lose a request or its reply): once reconnected,
    the client asks again what is still unanswered, and gets its reply."""
    monkeypatch.setattr("broker.sdk._client.ASK_AGAIN_AFTER", 1.0)
    await apply_topology(vhost_url)
    (person,) = found_people(1, start=400_000)
    async with Client(vhost_url) as client:
        call = asyncio.ensure_future(client.request(DATASET, person, recipient=SIRET, timeout=60))
        await asyncio.sleep(0.5)
        lane = queue_name("cnav", Lane.INTERACTIVE)
        connection = await aio_pika.connect(vhost_url)
        async with connection:
            channel = await connection.channel()
            assert await (await channel.get_queue(lane)).purge() is not None
        vhost = vhost_url.rsplit("/", 1)[1]
        assert await asyncio.to_thread(_close_connections, vhost, "particulier-client") >= 1
        async with worker_process(vhost_url, simulator):
            reply = await call
    assert reply.status == 200
    assert client.asked_again == 1


def _postgresql(action: str, *, check: bool = True) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=check,
        capture_output=True,
    )


@pytest.mark.skipif(not os.path.isdir("/etc/postgresql"), reason="needs a local PostgreSQL")
async def test_postgresql_stopped_mid_run_delays_requests_and_loses_none(
    vhost_url: str, simulator: Simulator, services: Services
) -> None:
    """The real server stopped for 10 s: requests wait unacked, then each is answered with
    its journal row; none is dead-lettered ``journal-refused``."""
    await apply_topology(vhost_url)
    simulator.faults("cnav").latency_ms = 20
    people = found_people(2000, start=400_000)
    try:
        async with worker_process(vhost_url, simulator), Client(vhost_url) as client:
            calls = [
                asyncio.ensure_future(client.request(DATASET, p, recipient=SIRET, timeout=150))
                for p in people
            ]
            await asyncio.sleep(1.0)
            await asyncio.to_thread(_postgresql, "stop")
            stopped_while = sum(not c.done() for c in calls)
            await asyncio.sleep(10)
            await asyncio.to_thread(_postgresql, "start")
            replies: list[Reply] = await asyncio.gather(*calls)
    finally:  # already running unless the test failed during the outage
        await asyncio.to_thread(functools.partial(_postgresql, "start", check=False))
    assert stopped_while > 0, "the run ended before the outage: make it longer"
    assert [r.status for r in replies] == [200] * len(people)
    conn = await asyncpg.connect(services.admin_url)
    try:
        journaled = await conn.fetchval(
            "SELECT count(DISTINCT correlation_id) FROM journal WHERE correlation_id = ANY($1)",
            [r.correlation_id for r in replies],
        )
    finally:
        await conn.close()
    assert journaled == len(people)
    connection = await aio_pika.connect(vhost_url)
    async with connection:
        dead = await (await connection.channel()).declare_queue(DEAD_QUEUE, passive=True)
        assert dead.declaration_result.message_count == 0
