"""Plain aio-pika helpers: what a back-office without the SDK does."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika

from broker.sdk.contract import DEAD_QUEUE, DEADLINE_HEADER, EXCHANGE


@asynccontextmanager
async def channel_of(url: str, **options: Any) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A channel on a connection of its own to ``url``, both closed on leaving."""
    connection = await aio_pika.connect(url)
    async with connection:
        yield await connection.channel(**options)


async def raw_request(
    amqp_url: str,
    body: bytes | dict[str, Any],
    *,
    routing_key: str = "interactive.cnav.quotient_familial",
    reply: bool = True,
    correlation_id: str | None = "auto",
    message_id: str | None = "auto",
    user_id: str | None = "guest",
    deadline_ms: int | None = None,
    reply_to: str | None = None,
    queue: str | None = None,
    timeout: float = 15.0,
) -> aio_pika.abc.AbstractIncomingMessage | None:
    """Publish one request with plain aio-pika and return the reply message (or None).

    ``reply_to`` replaces the reply queue's name in the request (the reply then comes back,
    if at all, elsewhere: ``reply`` should be false); ``queue`` names the reply queue."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue_name = queue or f"reply.guest.{uuid.uuid4().hex}"
        replies = await channel.declare_queue(queue_name, exclusive=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers: dict[str, Any] = {}
        if deadline_ms is not None:
            headers[DEADLINE_HEADER] = deadline_ms
        await exchange.publish(
            aio_pika.Message(
                payload,
                content_type="application/json",
                correlation_id=uuid.uuid4().hex if correlation_id == "auto" else correlation_id,
                message_id=uuid.uuid4().hex if message_id == "auto" else message_id,
                reply_to=reply_to if reply_to is not None else replies.name if reply else None,
                user_id=user_id,
                headers=headers,
            ),
            routing_key=routing_key,
        )
        if not reply:
            return None
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            message = await replies.get(no_ack=True, fail=False)
            if message is not None:
                return message
            await asyncio.sleep(0.05)
        raise TimeoutError("no reply")


def decode(message: aio_pika.abc.AbstractIncomingMessage | None) -> dict[str, Any]:
    assert message is not None
    result: dict[str, Any] = json.loads(message.body)
    return result


async def take_dead_letter(
    amqp_url: str, message_id: str, timeout: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    """Take the dead letter of ``message_id`` out of ``particulier.dead``.

    Other dead letters are held unacknowledged while looking, and go back on close."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        queue = await channel.get_queue(DEAD_QUEUE, ensure=False)
        async with asyncio.timeout(timeout), queue.iterator() as letters:
            async for letter in letters:
                if letter.message_id == message_id:
                    await letter.ack()
                    return letter
    raise AssertionError("unreachable")
