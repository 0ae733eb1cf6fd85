"""The broker on a three-node RabbitMQ cluster (``deploy/rabbitmq/cluster.sh``): the node
leading a lane queue killed, a rolling restart, a worker killed among three, a memory alarm.

After each run: every request answered, none answered twice with different content, each
disclosure with its journal row, and the journal's chain verifies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import asyncpg
import pytest

from broker.journal import verify
from broker.sdk import Client, Lane, Publisher, Reply, connect
from broker.topology import queue_name

from ..conftest import Services, Simulator
from .processes import WorkerProcess, apply_topology, found_people, worker_process

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "cluster.sh"
NODES = (1, 2, 3)
DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
LANE_QUEUE = queue_name("cnav", Lane.BULK)


def cluster(*args: str) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], check=True, capture_output=True, text=True, timeout=300
    )
    return done.stdout.strip()


def ctl(node: int, *args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "-n", cluster("node", str(node)), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


@pytest.fixture(scope="module")
def nodes() -> Iterator[None]:
    cluster("start")
    yield
    cluster("clean")


@pytest.fixture
def vhost(nodes: None) -> Iterator[str]:
    name = f"particulier-cluster-{uuid.uuid4().hex[:8]}"
    ctl(1, "add_vhost", name)
    ctl(1, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    cluster("start")  # a test that failed midway may have left a node down
    ctl(1, "delete_vhost", name)


@pytest.fixture
def urls(vhost: str) -> list[str]:
    return cluster("urls", "guest:guest", vhost).split(",")


def _node_number(name: object) -> int:
    return int(str(name).split("@")[0].rsplit("-", 1)[1])


def _queue(vhost: str, queue: str, asking: int) -> dict[str, object]:
    fields = ("name", "leader", "members")
    rows = json.loads(ctl(asking, "list_queues", "-p", vhost, *fields, "--formatter", "json"))
    (row,) = [r for r in rows if r["name"] == queue]
    return dict(row)


def leader(vhost: str, queue: str, *, asking: int = 1) -> int:
    """The node leading ``queue`` (a quorum queue), as node ``asking`` sees it."""
    return _node_number(_queue(vhost, queue, asking)["leader"])


def members(vhost: str, queue: str) -> set[int]:
    """The nodes holding a replica of ``queue``."""
    held = _queue(vhost, queue, 1)["members"]
    assert isinstance(held, list)
    return {_node_number(m) for m in held}


async def dead_reasons(client: Client) -> dict[str, int]:
    """The reasons of the dead letters the cluster holds (looked at, then put back)."""
    channel = await client.channel()
    reasons: dict[str, int] = {}
    try:
        queue = await channel.get_queue("particulier.dead", ensure=False)
        taken = []
        for _ in range(50):
            letter = await queue.get(no_ack=False, fail=False)
            if letter is None:
                break
            taken.append(letter)
            reason = str((letter.headers or {}).get("x-dead-reason"))
            reasons[reason] = reasons.get(reason, 0) + 1
        for letter in taken:
            await letter.nack(requeue=True)
    finally:
        await channel.close()
    return reasons


def queues_held() -> str:
    """The queues of the test's vhosts that say why a request went unanswered: the clients'
    reply queues, and any other holding messages (the dead letters, a lane), each with its
    type, leader, messages and consumers."""
    for node in NODES:
        try:
            vhosts = ctl(node, "list_vhosts").split()
        except subprocess.CalledProcessError:
            continue
        rows = []
        for vhost in (v for v in vhosts if v.startswith("particulier-cluster-")):
            fields = ("name", "type", "leader", "messages", "consumers")
            listed = ctl(node, "list_queues", "-p", vhost, *fields, "--formatter", "json")
            rows += [
                f"{r['name']} {r['type']} {r['leader']} {r['messages']}/{r['consumers']}"
                for r in json.loads(listed)
                if not str(r["name"]).startswith("particulier.") or r["messages"]
            ]
        return "; ".join(rows)
    return "no node up"


async def prepare(
    urls: list[str], simulator: Simulator, *, latency_ms: int, count: int, start: int
) -> list[dict[str, object]]:
    """The topology on the cluster, the provider at ``latency_ms``, and ``count`` people to
    ask for (from the ``start``-th, a range of the test's own)."""
    await apply_topology(urls)
    simulator.faults("cnav").latency_ms = latency_ms
    return found_people(count, start=start)


async def run(
    client: Client,
    people: Sequence[dict[str, object]],
    fault: Callable[[], Awaitable[None]],
    services: Services,
    *,
    rate: float | None = None,
    after: int = 200,
) -> list[Reply]:
    """Ask for every person (at ``rate`` per second, else all at once), inflict ``fault``
    once ``after`` replies are in, and wait for every reply. Prints the run's figures: its
    length, the longest wait between two replies, the duplicate replies the client ignored.

    When some go unanswered, says how many requests the journal holds (the run's, the tests
    running one at a time): all of them, and replies were lost; fewer, and requests were."""
    calls: list[asyncio.Future[Reply]] = []
    answered_at: list[float] = []
    began = time.monotonic()
    began_at = datetime.now(UTC)

    async def ask() -> None:
        for person in people:
            call = asyncio.ensure_future(
                client.request(DATASET, person, recipient=SIRET, lane=Lane.BULK, timeout=150)
            )
            call.add_done_callback(lambda _: answered_at.append(time.monotonic()))
            calls.append(call)
            if rate is not None:
                await asyncio.sleep(1 / rate)

    asking = asyncio.create_task(ask())
    while len(answered_at) < after:
        assert not any(c.done() and c.exception() for c in calls), "a request failed early"
        await asyncio.sleep(0.05)
    await asyncio.wait_for(fault(), 150)
    assert len(answered_at) < len(people), "the run ended before the fault"
    await asyncio.wait_for(asking, 300)
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    if failed:
        why = await dead_reasons(client)
        conn = await asyncpg.connect(services.admin_url)
        try:
            journaled = await conn.fetchval(
                "SELECT count(DISTINCT message_id) FROM journal WHERE recorded_at >= $1",
                began_at,
            )
        finally:
            await conn.close()
        kinds = Counter(type(f).__name__ for f in failed)
        raise AssertionError(
            f"{len(failed)} of {len(people)} unanswered ({dict(kinds)}, {client.asked_again} "
            f"asked again, {client.ignored} replies ignored); {journaled} requests journaled; "
            f"{why}; reply queue {client.reply_queue}; queues: {queues_held()}"
        )
    replies = [o for o in outcomes if isinstance(o, Reply)]
    gaps = [b - a for a, b in itertools.pairwise(answered_at)]
    print(
        f"\n{len(replies)} replies in {time.monotonic() - began:.1f} s, longest wait between "
        f"two {max(gaps):.1f} s, {client.asked_again} asked again after a reconnection, "
        f"{client.ignored} duplicate replies ignored"
    )
    return replies


async def assert_whole(
    replies: Sequence[Reply], people: Sequence[dict[str, object]], services: Services
) -> None:
    """Every person answered with their own data, once per request in the journal, and the
    journal's chain intact."""
    assert [r.status for r in replies] == [200] * len(people)
    for person, reply in zip(people, replies, strict=True):
        assert reply.data is not None
        assert reply.data["allocataires"][0]["nom_naissance"] == person["nomNaissance"]
    correlation_ids = [r.correlation_id for r in replies]
    assert len(set(correlation_ids)) == len(people)
    conn = await asyncpg.connect(services.admin_url)
    try:
        rows = await conn.fetch(
            "SELECT correlation_id, count(DISTINCT reply_digest) AS contents FROM journal"
            " WHERE correlation_id = ANY($1) GROUP BY correlation_id",
            correlation_ids,
        )
        assert len(rows) == len(people), "a disclosure without its journal row"
        assert all(r["contents"] == 1 for r in rows), "a request answered twice, differently"
        checked = await verify(conn)
    finally:
        await conn.close()
    assert checked.problem is None, checked.problem


async def test_the_node_leading_a_lane_queue_killed_mid_run_loses_nothing(
    vhost: str, urls: list[str], simulator: Simulator, services: Services
) -> None:
    people = await prepare(urls, simulator, latency_ms=20, count=2000, start=500_000)
    killed: list[int] = []

    async def kill_the_leader() -> None:
        assert members(vhost, LANE_QUEUE) == set(NODES)
        killed.append(leader(vhost, LANE_QUEUE))
        await asyncio.to_thread(cluster, "kill", str(killed[0]))

    async with worker_process(urls, simulator), Client(urls, lane=Lane.BULK) as client:
        replies = await run(client, people, kill_the_leader, services)
    survivor = next(n for n in NODES if n != killed[0])
    assert leader(vhost, LANE_QUEUE, asking=survivor) != killed[0]
    await asyncio.to_thread(cluster, "start-node", str(killed[0]))
    await assert_whole(replies, people, services)


async def test_a_rolling_restart_of_the_three_nodes_during_a_run_loses_nothing(
    urls: list[str], simulator: Simulator, services: Services
) -> None:
    people = await prepare(urls, simulator, latency_ms=20, count=2000, start=520_000)
    restarted_while: list[bool] = []

    async def restart_each_node() -> None:
        for node in NODES:
            await asyncio.to_thread(cluster, "stop-node", str(node))
            await asyncio.to_thread(cluster, "start-node", str(node))
            await asyncio.sleep(2)  # its quorum queue members catch up
        restarted_while.append(True)

    async with worker_process(urls, simulator), Client(urls, lane=Lane.BULK) as client:
        replies = await run(client, people, restart_each_node, services, rate=40, after=50)
    assert restarted_while == [True]
    await assert_whole(replies, people, services)


async def test_a_channel_opened_while_a_quorum_queue_elects_a_leader_still_publishes(
    vhost: str, urls: list[str]
) -> None:
    """RabbitMQ 3.10 nacks for good the publishes to a quorum queue on a channel opened during
    its election (docs/operations.md); the publisher opened then delivers all the same."""
    name = f"test.elected.{uuid.uuid4().hex[:8]}"
    declaring = await connect(urls[0], name="particulier-test")
    async with declaring:
        channel = await declaring.channel()
        queue = await channel.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        del queue
    killed = leader(vhost, name, asking=1)
    survivor = next(n for n in NODES if n != killed)
    await asyncio.to_thread(cluster, "kill", str(killed))
    connection = await connect(urls[survivor - 1], name="particulier-test")
    publisher = Publisher(connection)
    try:
        ends = time.monotonic() + 60
        for index in range(20):
            while True:
                try:
                    await publisher.publish(aio_pika.Message(str(index).encode()), routing_key=name)
                    break
                except aio_pika.exceptions.DeliveryError:
                    assert time.monotonic() < ends, f"message {index} refused for a minute"
                    await asyncio.sleep(0.2)
        print(f"\n20 published; {publisher.replaced} channels replaced after a refusal")
        consumer = await connection.channel()
        taken = await consumer.get_queue(name, ensure=False)
        bodies = []
        while (message := await taken.get(no_ack=True, fail=False)) is not None:
            bodies.append(message.body)
        assert sorted(int(b) for b in bodies) == list(range(20))
    finally:
        await publisher.close()
        await connection.close()
        await asyncio.to_thread(cluster, "start-node", str(killed))


async def test_one_of_three_workers_killed_mid_run_loses_nothing(
    urls: list[str], simulator: Simulator, services: Services
) -> None:
    people = await prepare(urls, simulator, latency_ms=50, count=2000, start=540_000)
    async with (
        worker_process(urls, simulator) as first,
        worker_process(urls[1:] + urls[:1], simulator),
        worker_process(urls[2:] + urls[:2], simulator),
        Client(urls, lane=Lane.BULK) as client,
    ):

        async def kill_one() -> None:
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait)

        replies = await run(client, people, kill_one, services)
    await assert_whole(replies, people, services)


async def until(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    ends = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < ends, f"not {what} within {seconds:g} s"
        await asyncio.sleep(0.2)


async def test_a_memory_alarm_blocks_publishers_who_say_so_and_resume(
    urls: list[str], simulator: Simulator, services: Services
) -> None:
    # at 500 ms, replies are in flight whenever the alarm starts
    people = await prepare(urls, simulator, latency_ms=500, count=1500, start=560_000)
    seen_blocked: list[str] = []

    async def alarm(worker: WorkerProcess, client: Client) -> None:
        ctl(1, "set_vm_memory_high_watermark", "0.000001")
        try:

            async def client_blocked() -> bool:
                return client.blocked

            async def worker_blocked() -> bool:
                return await worker.metric("particulier_amqp_blocked") == 1

            await until(client_blocked, 15, "the client blocked")
            seen_blocked.append("client")
            await until(worker_blocked, 15, "the worker blocked")
            seen_blocked.append("worker")
            await asyncio.sleep(2)
        finally:
            ctl(1, "set_vm_memory_high_watermark", "0.4")

    async with worker_process(urls, simulator) as worker, Client(urls, lane=Lane.BULK) as client:
        replies = await run(
            client, people, lambda: alarm(worker, client), services, rate=100, after=100
        )
        assert not client.blocked
        assert await worker.metric("particulier_amqp_blocked") == 0
    assert seen_blocked == ["client", "worker"]
    await assert_whole(replies, people, services)
