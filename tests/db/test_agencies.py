"""Agencies' RabbitMQ users, against the real RabbitMQ: agency A can neither read agency B's
replies nor publish as B. Runs in a virtual host created and deleted by the test."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import aiormq.exceptions
import asyncpg
import pytest
import pytest_asyncio
from typer.testing import CliRunner

from broker.habilitations import RabbitMQ, agency_permissions
from broker.habilitations.cli import agencies_app
from broker.sdk.contract import EXCHANGE

from .support import Database, unique

AMQP_HOST = os.environ.get("PARTICULIER_TEST_AMQP_HOST", "127.0.0.1:5672")

pytestmark = pytest.mark.skipif(
    shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on a RabbitMQ node"
)


@dataclass(frozen=True)
class Broker:
    vhost: str
    admin: RabbitMQ
    users: dict[str, str]

    def url(self, user: str, password: str | None = None) -> str:
        return f"amqp://{user}:{password or self.users[user]}@{AMQP_HOST}/{self.vhost}"


@pytest_asyncio.fixture
async def broker(
    new_database: Callable[[], Awaitable[Database]],
) -> AsyncIterator[tuple[Broker, Database]]:
    db = await new_database()
    vhost = unique("particulier_test_vhost")
    admin = RabbitMQ(vhost)
    await asyncio.to_thread(admin.add_vhost)
    users: dict[str, str] = {}
    try:
        await asyncio.to_thread(admin.set_permissions, "guest", ".*", ".*", ".*")
        users["guest"] = "guest"
        env = {"PARTICULIER_DATABASE_ADMIN_URL": db.admin_url}
        for label in ("a", "b"):
            user = unique(f"agency_{label}")
            result = await asyncio.to_thread(
                CliRunner().invoke,
                agencies_app,
                [
                    "create",
                    f"Agence {label.upper()}",
                    "--siret",
                    "21690123100011",
                    "--user",
                    user,
                    "--vhost",
                    vhost,
                ],
                env=env,
            )
            assert result.exit_code == 0, result.output
            password = re.search(r"password \(shown once\): (\S+)", result.output)
            assert password is not None
            users[label] = user
            users[user] = password.group(1)
        yield Broker(vhost, admin, users), db
    finally:
        for key in ("a", "b"):
            if key in users:
                await asyncio.to_thread(admin.delete_user, users[key])
        await asyncio.to_thread(admin.delete_vhost)


async def _channel(
    url: str,
) -> tuple[aio_pika.abc.AbstractConnection, aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(url)
    return connection, await connection.channel(publisher_confirms=True)


async def test_agency_is_confined(broker: tuple[Broker, Database]) -> None:
    env, db = broker
    a, b = env.users["a"], env.users["b"]

    conn = await asyncpg.connect(db.admin_url)
    try:
        rows = await conn.fetch("SELECT name, rabbitmq_user FROM agencies ORDER BY name")
    finally:
        await conn.close()
    assert [(r["name"], r["rabbitmq_user"]) for r in rows] == [("Agence A", a), ("Agence B", b)]

    guest_conn, guest = await _channel(env.url("guest"))
    a_conn, a_channel = await _channel(env.url(a))
    b_conn, b_channel = await _channel(env.url(b))
    try:
        exchange = await guest.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        requests = await guest.declare_queue("requests_seen_by_worker", exclusive=True)
        await requests.bind(exchange, routing_key="#")
        b_inbox = await b_channel.declare_queue(f"reply.{b}.inbox", durable=True)

        # B's reply queue gets a reply
        await guest.default_exchange.publish(
            aio_pika.Message(b"reply for B"), routing_key=b_inbox.name
        )

        # A uses its own reply queues freely
        a_inbox = await a_channel.declare_queue(f"reply.{a}.inbox", durable=True)
        await guest.default_exchange.publish(
            aio_pika.Message(b"reply for A"), routing_key=a_inbox.name
        )
        got = await a_inbox.get(timeout=5)
        assert got.body == b"reply for A"
        await got.ack()

        # A publishes requests as itself; the worker sees RabbitMQ's verified user_id
        a_exchange = await a_channel.get_exchange(EXCHANGE, ensure=False)
        await a_exchange.publish(
            aio_pika.Message(b"{}", user_id=a), routing_key="interactive.cnav.quotient_familial"
        )
        seen = await requests.get(timeout=5)
        assert seen.user_id == a
        await seen.ack()

        async def refused(
            attempt: Callable[[aio_pika.abc.AbstractChannel], Awaitable[object]],
            error: type[Exception],
        ) -> None:
            channel = await a_conn.channel(publisher_confirms=True)
            with pytest.raises(error):
                await attempt(channel)

        async def read_b(channel: aio_pika.abc.AbstractChannel) -> object:
            return await (await channel.get_queue(b_inbox.name, ensure=False)).get(timeout=5)

        async def ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            return None

        async def consume_b(channel: aio_pika.abc.AbstractChannel) -> object:
            queue = await channel.get_queue(b_inbox.name, ensure=False)
            return await queue.consume(ignore)

        async def declare_in_b_prefix(channel: aio_pika.abc.AbstractChannel) -> object:
            return await channel.declare_queue(f"reply.{b}.stolen")

        async def publish_as_b(channel: aio_pika.abc.AbstractChannel) -> object:
            target = await channel.get_exchange(EXCHANGE, ensure=False)
            return await target.publish(
                aio_pika.Message(b"{}", user_id=b), routing_key="interactive.cnav.quotient_familial"
            )

        async def publish_to_b_queue(channel: aio_pika.abc.AbstractChannel) -> object:
            return await channel.default_exchange.publish(
                aio_pika.Message(b"fake reply"), routing_key=b_inbox.name
            )

        async def snoop_requests(channel: aio_pika.abc.AbstractChannel) -> object:
            queue = await channel.declare_queue(f"reply.{a}.snoop", exclusive=True)
            return await queue.bind(EXCHANGE, routing_key="#")

        access = aiormq.exceptions.ChannelAccessRefused
        await refused(read_b, access)
        await refused(consume_b, access)
        await refused(declare_in_b_prefix, access)
        await refused(publish_to_b_queue, access)
        await refused(snoop_requests, access)
        await refused(publish_as_b, aiormq.exceptions.ChannelPreconditionFailed)

        # nothing reached the worker from the impersonation, and B's reply is still there
        with pytest.raises(aio_pika.exceptions.QueueEmpty):
            await requests.get(timeout=1)
        still = await b_inbox.get(timeout=5)
        assert still.body == b"reply for B"
        await still.ack()
        await a_inbox.delete()
        await b_inbox.delete()
    finally:
        for connection in (a_conn, b_conn, guest_conn):
            await connection.close()


def test_permission_regexes() -> None:
    permissions = agency_permissions("mairie_lyon")
    assert permissions.configure == r"^reply\.mairie_lyon\."
    assert permissions.read == r"^reply\.mairie_lyon\."
    assert permissions.write == r"^particulier\.requests$|^reply\.mairie_lyon\."
    for name in ("reply.mairie_lyon.1", "reply.mairie_lyon.x.y"):
        assert re.search(permissions.read, name)
    for name in (
        "reply.mairie_lyon2.1",
        "reply.mairie.1",
        "xreply.mairie_lyon.1",
        "amq.default",
        "particulier.dead",
    ):
        assert not re.search(permissions.read, name)
    assert re.search(permissions.write, "particulier.requests")
    assert not re.search(permissions.write, "particulier.requests2")
    with pytest.raises(ValueError):
        agency_permissions("a.b")
