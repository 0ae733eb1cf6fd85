"""Case 1: the physical limit of this machine for request/reply over RabbitMQ.

Plain aio-pika on both sides, with what the broker path also pays for at the transport: a
topic exchange, a durable quorum request queue, persistent messages, publisher confirms on
both sides (mandatory publishes), manual acks, a durable reply queue per client. The replier
answers at once with a canned reply of the size of a real signed reply.

Replier process: ``python -m benchmarks.baseline --url AMQP --reply-bytes N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from .load import LoadResult, paced

__all__ = ["EXCHANGE", "QUEUE", "declare", "run_client"]

EXCHANGE = "bench.baseline"
QUEUE = "bench.baseline.requests"
ROUTING_KEY = "interactive.bench.echo"


async def declare(url: str) -> None:
    """The baseline's own exchange and quorum queue, shaped like a provider's lane queue."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            QUEUE, durable=True, arguments={"x-queue-type": "quorum", "x-delivery-limit": 5}
        )
        await queue.bind(exchange, "interactive.bench.#")


def canned_reply(size: int) -> bytes:
    """A JSON reply of about ``size`` bytes."""
    body: dict[str, Any] = {"status": 200, "data": {"padding": ""}, "errors": [], "meta": {}}
    base = len(json.dumps(body).encode())
    body["data"]["padding"] = "x" * max(0, size - base)
    return json.dumps(body).encode()


async def _serve(url: str, prefetch: int, reply_bytes: int) -> None:
    reply = canned_reply(reply_bytes)
    connection = await aio_pika.connect_robust(url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.get_queue(QUEUE, ensure=True)

    async def on_message(message: AbstractIncomingMessage) -> None:
        assert message.reply_to is not None
        await channel.default_exchange.publish(
            aio_pika.Message(
                reply,
                content_type="application/json",
                correlation_id=message.correlation_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=message.reply_to,
            mandatory=True,
        )
        await message.ack()

    await queue.consume(on_message)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await connection.close()


async def run_client(
    url: str,
    bodies: list[bytes],
    *,
    concurrency: int = 256,
    rate: float | None = None,
    duration: float | None = None,
    timeout: float = 120.0,
) -> LoadResult:
    """Send every body as a request, ``concurrency`` in flight, and wait for every reply; or,
    with ``rate``, send at that pace for ``duration`` seconds (open loop, latency from each
    request's scheduled time)."""
    connection = await aio_pika.connect_robust(url)
    result = LoadResult()
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        queue = await channel.declare_queue(
            f"reply.bench.{uuid.uuid4().hex}",
            durable=True,
            arguments={"x-expires": 10 * 60 * 1000},
        )
        pending: dict[str, asyncio.Future[bytes]] = {}

        async def on_reply(message: AbstractIncomingMessage) -> None:
            await message.ack()
            future = pending.pop(message.correlation_id or "", None)
            if future is not None and not future.done():
                json.loads(message.body)  # a client reads what it receives
                future.set_result(message.body)

        await queue.consume(on_reply)
        loop = asyncio.get_running_loop()

        async def one(index: int, started: float) -> None:
            correlation_id = uuid.uuid4().hex
            future: asyncio.Future[bytes] = loop.create_future()
            pending[correlation_id] = future
            result.sent += 1
            await exchange.publish(
                aio_pika.Message(
                    bodies[index % len(bodies)],
                    content_type="application/json",
                    correlation_id=correlation_id,
                    message_id=uuid.uuid4().hex,
                    reply_to=queue.name,
                    user_id="guest",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=ROUTING_KEY,
                mandatory=True,
            )
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                pending.pop(correlation_id, None)
                result.failures["timeout"] += 1
                return
            result.latencies.append(time.perf_counter() - started)
            result.statuses["200"] += 1

        began = time.perf_counter()
        if rate is None:
            counter = iter(range(len(bodies)))

            async def runner() -> None:
                for index in counter:
                    await one(index, time.perf_counter())

            await asyncio.gather(*(runner() for _ in range(concurrency)))
        else:
            await paced(one, rate=rate, count=int(rate * (duration or 10.0)), began=began)
        result.elapsed = time.perf_counter() - began
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="The baseline's replier: answers at once.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefetch", type=int, default=256)
    parser.add_argument("--reply-bytes", type=int, default=1500)
    args = parser.parse_args()
    asyncio.run(_serve(args.url, args.prefetch, args.reply_bytes))


if __name__ == "__main__":
    main()
