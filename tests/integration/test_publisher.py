"""The SDK's and the worker's publisher: a publish RabbitMQ refuses moves it to a new channel.

A queue that rejects every publish (``x-max-length`` 0, ``reject-publish``) makes RabbitMQ nack
on one node, as it does on a cluster's channel opened during a quorum queue's election."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
import pytest_asyncio

from broker.sdk import Publisher, connect
from broker.sdk import _connection as connection_module

from ..conftest import Services


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
