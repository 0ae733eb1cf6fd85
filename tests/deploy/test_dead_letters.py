"""The dead-letter procedure of docs/operations.md, on this machine's RabbitMQ: a poison request
that RabbitMQ dead-letters after DELIVERY_LIMIT deliveries is listed and replayed with its
requester; a worker's dead letter (no user_id) is listed, refused for replay, then dropped."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aio_pika
import pytest

from broker import topology
from broker.sdk.contract import DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE, REASON_HEADER

from .helpers import DEPLOY, load

dead_letters = load(DEPLOY / "rabbitmq" / "dead_letters.py")


def _rabbitmq_here() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 5672)) == 0 and bool(shutil.which("rabbitmqctl"))


pytestmark = pytest.mark.skipif(
    not _rabbitmq_here(), reason="needs this machine's RabbitMQ on 5672 and rabbitmqctl"
)


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def amqp_url() -> Iterator[str]:
    vhost = f"particulier-deploy-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    finally:
        _ctl("delete_vhost", vhost)


async def _run(url: str, *argv: str) -> tuple[dict[str, int], str]:
    out = io.StringIO()
    args = dead_letters.parser().parse_args([*argv, "--url", url])
    return await dead_letters.run(args, out), out.getvalue()


async def _depth(channel: aio_pika.abc.AbstractChannel, queue: str, expect: int) -> int:
    """Ready messages in ``queue``, waiting up to 5 s for ``expect`` (requeues and
    dead-lettering are asynchronous)."""
    for _ in range(50):
        declared = await channel.declare_queue(queue, passive=True)
        count = int(declared.declaration_result.message_count or 0)
        if count == expect:
            break
        await asyncio.sleep(0.1)
    return count


async def _publish(
    channel: aio_pika.abc.AbstractChannel, exchange: str, key: str, message: aio_pika.Message
) -> None:
    """Publish ``message`` to ``exchange`` with routing key ``key``."""
    await (await channel.get_exchange(exchange)).publish(message, routing_key=key)


POISON: dict[str, Any] = {
    "message_id": "poison-1",
    "correlation_id": "c-1",
    "reply_to": "reply.guest.gone",
    "user_id": "guest",
    "type": "cnav.quotient_familial",
    "content_type": "application/json",
}
"""The properties of the poison request, that its replay must keep."""


async def test_list_replay_and_drop(amqp_url: str) -> None:
    body = json.dumps(
        {
            "dataset": "cnav.quotient_familial",
            "recipient": "13002526500013",
            "params": {"nomNaissance": "SECRET-NAME"},
        }
    ).encode()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await topology.apply(channel, ["cnav"])
        lane = topology.queue_name("cnav", "interactive")
        key = "interactive.cnav.quotient_familial"
        poison = aio_pika.Message(body, **POISON, headers={"x-deadline": 1})
        await _publish(channel, EXCHANGE, key, poison)
        # a worker fails on it every time: RabbitMQ dead-letters it past the delivery limit
        lane_queue = await channel.get_queue(lane)
        for _ in range(topology.DELIVERY_LIMIT + 3):
            message = await lane_queue.get(no_ack=False, fail=False)
            if message is None:
                break
            await message.nack(requeue=True)
        # what Worker._dead_letter publishes for a request without reply_to
        headers = {REASON_HEADER: "no-reply-to", "x-original-routing-key": key}
        orphan = aio_pika.Message(
            body, message_id="orphan-1", type="cnav.quotient_familial", headers=headers
        )
        await _publish(channel, DEAD_EXCHANGE, key, orphan)
        assert await _depth(channel, DEAD_QUEUE, 2) == 2
        assert await _depth(channel, lane, 0) == 0

        counts, out = await _run(amqp_url, "list")
        assert counts["seen"] == 2
        poison = next(line for line in out.splitlines() if line.startswith("poison-1"))
        assert "delivery_limit" in poison and "guest" in poison and key in poison
        assert " replayable" in poison
        orphan = next(line for line in out.splitlines() if line.startswith("orphan-1"))
        assert "no-reply-to" in orphan and "not replayable" in orphan
        assert "SECRET-NAME" not in out, "a body (personal data) was printed"

        counts, out = await _run(amqp_url, "replay")  # no --yes: a dry run
        assert counts["replayed"] == 0 and "dry run" in out
        assert await _depth(channel, DEAD_QUEUE, 2) == 2

        counts, _ = await _run(amqp_url, "replay", "--yes", "--extend-deadline", "60")
        assert (counts["replayed"], counts["skipped"]) == (1, 1)
        replayed = await lane_queue.get(no_ack=False, timeout=5)
        assert {name: getattr(replayed, name) for name in POISON} == POISON
        assert replayed.body == body
        headers = replayed.headers or {}
        assert headers[dead_letters.REPLAYED_HEADER] == "delivery_limit"
        assert "x-death" not in headers
        assert int(headers["x-deadline"]) > 1  # extended
        await replayed.ack()

        counts, _ = await _run(amqp_url, "drop", "--reason", "no-reply-to", "--yes")
        assert counts["dropped"] == 1
        assert await _depth(channel, DEAD_QUEUE, 0) == 0
