"""The SDK's and the worker's publisher: a publish RabbitMQ refuses moves it to a new channel.

A queue that rejects every publish (``x-max-length`` 0, ``reject-publish``) makes RabbitMQ nack
on one node, as it does on a cluster's channel opened during a quorum queue's election; a memory
alarm (the watermark lowered) makes it leave publishes unconfirmed."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
import pytest_asyncio
from yarl import URL

from broker.sdk import Blocking, Client, Publisher, ReplyTimeout, Unconfirmed, connect
from broker.sdk import _connection as connection_module

from ..conftest import Services
from ..db.support import Proxy
from .conftest import DATASET, SIRET, Agency, person


@pytest_asyncio.fixture
async def queues(services: Services) -> AsyncIterator[tuple[str, str, aio_pika.abc.AbstractQueue]]:
    """A queue refusing every publish, and one taking them."""
    connection = await aio_pika.connect(services.amqp_url)
    channel = await connection.channel()
    suffix = uuid.uuid4().hex[:8]
    full = await channel.declare_queue(
        f"test.full.{suffix}", arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    taking = await channel.declare_queue(f"test.taking.{suffix}")
    yield full.name, taking.name, taking
    await full.delete()
    await taking.delete()
    await connection.close()


async def test_a_refused_publish_raises_and_the_next_goes_on_a_new_channel(
    services: Services,
    queues: tuple[str, str, aio_pika.abc.AbstractQueue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_module, "REFUSED_CHANNEL_GRACE", 0.0)
    full, taking, queue = queues
    connection = await connect(services.amqp_url, name="particulier-test")
    publisher = Publisher(connection)
    try:
        with pytest.raises(aio_pika.exceptions.DeliveryError) as refused:
            await publisher.publish(aio_pika.Message(b"refused"), routing_key=full)
        assert not isinstance(refused.value, aio_pika.exceptions.PublishError)
        assert publisher.replaced == 1
        await publisher.publish(aio_pika.Message(b"taken"), routing_key=taking)
        message = await queue.get(timeout=5)
        assert message is not None and message.body == b"taken"
        assert publisher.replaced == 1
    finally:
        await publisher.close()
        await connection.close()


async def test_a_returned_publish_keeps_its_channel(services: Services) -> None:
    connection = await connect(services.amqp_url, name="particulier-test")
    publisher = Publisher(connection)
    try:
        with pytest.raises(aio_pika.exceptions.PublishError):
            await publisher.publish(
                aio_pika.Message(b"nowhere", message_id=uuid.uuid4().hex),
                routing_key=f"no.such.queue.{uuid.uuid4().hex}",
            )
        assert publisher.replaced == 0
    finally:
        await publisher.close()
        await connection.close()


@contextlib.contextmanager
def memory_alarm() -> Iterator[None]:
    """A memory alarm on the test node while inside: RabbitMQ blocks publishing."""

    def watermark(value: str) -> None:
        subprocess.run(
            ["rabbitmqctl", "-q", "set_vm_memory_high_watermark", value],
            check=True,
            capture_output=True,
            timeout=60,
        )

    watermark("0.000001")
    try:
        yield
    finally:
        watermark("0.4")


async def test_a_publish_left_unconfirmed_ends_in_time_and_the_next_goes_on_a_new_channel(
    services: Services,
    queues: tuple[str, str, aio_pika.abc.AbstractQueue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_module, "REFUSED_CHANNEL_GRACE", 0.0)
    _, taking, queue = queues
    proxy = Proxy(target_port=URL(services.amqp_url).port or 5672)
    await proxy.start()
    url = str(URL(services.amqp_url).with_port(proxy.port))
    connection = await connect(url, name="particulier-test")
    publisher = Publisher(connection, timeout=1.0)
    try:
        await publisher.publish(aio_pika.Message(b"before"), routing_key=taking)
        proxy.freeze()  # RabbitMQ silent: no confirm, no refusal
        started = time.monotonic()
        with pytest.raises(Unconfirmed):
            await asyncio.wait_for(
                publisher.publish(aio_pika.Message(b"unconfirmed"), routing_key=taking), 10
            )
        assert time.monotonic() - started < 5
        assert publisher.replaced == 1
        proxy.thaw()
        await publisher.publish(aio_pika.Message(b"after"), routing_key=taking)
        bodies = set()
        while (message := await queue.get(timeout=5, fail=False)) is not None:
            bodies.add(message.body)
        assert {b"before", b"after"} <= bodies  # "unconfirmed" may have been taken too
    finally:
        proxy.thaw()
        await publisher.close()
        await connection.close()
        await proxy.stop()


async def test_a_publish_held_by_a_resource_alarm_outlasts_its_bound_and_completes(
    services: Services,
    queues: tuple[str, str, aio_pika.abc.AbstractQueue],
) -> None:
    _, taking, queue = queues
    connection = await connect(services.amqp_url, name="particulier-test")
    blocking = Blocking(connection, "test")
    publisher = Publisher(connection, blocking, timeout=2.0)
    try:
        with memory_alarm():
            publish = asyncio.ensure_future(
                publisher.publish(aio_pika.Message(b"held"), routing_key=taking)
            )
            for _ in range(40):
                if blocking.blocked:
                    break
                await asyncio.sleep(0.25)
            assert blocking.blocked
            await asyncio.sleep(4)  # past the publisher's timeout
            assert not publish.done()
        await asyncio.wait_for(publish, 30)
        message = await queue.get(timeout=5)
        assert message is not None and message.body == b"held"
        assert publisher.replaced == 0
    finally:
        await publisher.close()
        await blocking.close()
        await connection.close()


async def test_a_request_to_a_silent_node_ends_at_its_timeout_and_the_client_closes(
    agency: Agency, worker: object
) -> None:
    proxy = Proxy(target_port=URL(agency.url).port or 5672)
    await proxy.start()
    client = Client(str(URL(agency.url).with_port(proxy.port)))
    try:
        await client.connect()
        reply = await client.request(DATASET, person(0), recipient=SIRET, timeout=10)
        assert reply.status == 403  # answered: no habilitation
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(ReplyTimeout):
            await asyncio.wait_for(
                client.request(DATASET, person(1), recipient=SIRET, timeout=2), 30
            )
        assert time.monotonic() - started < 4
        started = time.monotonic()
        await asyncio.wait_for(client.close(), 60)
        assert time.monotonic() - started < 4 * connection_module.CLOSE_TIMEOUT
    finally:
        proxy.thaw()
        await client.close()
        await proxy.stop()
