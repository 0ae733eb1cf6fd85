"""Habilitations, scopes, rate limits and the journal, seen through the broker."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator

import aio_pika
import aiormq
import asyncpg
import pytest

from broker import registry, topology
from broker.certification import Certifier, KeyRing
from broker.db import create_pool
from broker.habilitations import Habilitations, grant, revoke
from broker.journal import Journal
from broker.runtime import Worker
from broker.sdk import Client
from broker.sdk.contract import REASON_HEADER

from ..conftest import Services, Simulator
from ..db.support import Proxy
from .amqp import channel_of, decode, raw_request, take_dead_letter
from .conftest import DATASET, SIRET, Agency, grant_scopes, person


async def test_agency_without_habilitation_is_refused(agency: Agency, worker: object) -> None:
    async with Client(agency.url) as client:
        reply = await client.request(DATASET, person(0), recipient=SIRET, timeout=10)
    assert reply.status == 403
    assert [e.code for e in reply.body.errors] == ["00100"]
    assert reply.data is None


async def test_one_scope_unmasks_one_group_then_revocation_bites(
    agency: Agency, services: Services, worker: object
) -> None:
    conn = await asyncpg.connect(services.admin_url)
    try:
        granted = await grant(
            conn,
            agency.name,
            {DATASET: ["cnaf_adresse"]},
            legal_basis="Tarification sociale de la cantine",
            legal_reference="CASF L123-1",
            rate_interactive=None,
        )
        await asyncio.sleep(2.5)  # the workers' cache refreshes every 2 s
        async with Client(agency.url) as client:
            reply = await client.request(DATASET, person(10), recipient=SIRET, timeout=10)
            assert reply.status == 200, reply.body.errors
            assert reply.data is not None and set(reply.data) == {"adresse"}
            assert reply.body.meta.scopes == ["cnaf_adresse"]
            await revoke(conn, granted)
            revoked_at = time.monotonic()
            while True:
                reply = await client.request(DATASET, person(20), recipient=SIRET, timeout=10)
                if reply.status == 403:
                    break
                assert time.monotonic() - revoked_at < 5, "revocation not effective within 5 s"
                await asyncio.sleep(0.2)
        assert time.monotonic() - revoked_at < 5
    finally:
        await conn.close()


async def test_rate_limit_answers_429_and_the_sdk_can_wait(
    agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]}, rate_interactive=5)
    async with Client(agency.url) as client:
        burst = await asyncio.gather(
            *(
                client.request(DATASET, person(100 + i), recipient=SIRET, timeout=10)
                for i in range(20)
            )
        )
        limited = [r for r in burst if r.status == 429]
        assert limited, "a burst of 20 at 5/s must be limited"
        assert all(r.body.errors[0].code == "00429" and r.retry_in for r in limited)
        patient = await asyncio.gather(
            *(
                client.request(
                    DATASET, person(300 + i), recipient=SIRET, timeout=30, retry_rate_limited=True
                )
                for i in range(10)
            )
        )
        assert [r.status for r in patient] == [200] * 10


async def test_agency_cannot_read_another_reply_queue_nor_publish_as_another(
    agency: Agency, services: Services, worker: object
) -> None:
    async with channel_of(agency.url) as channel:
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await channel.declare_queue("reply.guest.spy", auto_delete=True)
    async with channel_of(agency.url, publisher_confirms=True) as channel:
        own = await channel.declare_queue(f"reply.{agency.user}.{uuid.uuid4().hex}", exclusive=True)
        exchange = await channel.get_exchange("particulier.requests", ensure=False)
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
            await exchange.publish(
                aio_pika.Message(b"{}", user_id="guest", reply_to=own.name, correlation_id="x"),
                routing_key="interactive." + DATASET,
            )


@pytest.fixture
async def outage_worker(
    request: pytest.FixtureRequest, services: Services, simulator: Simulator
) -> AsyncIterator[tuple[Proxy, str]]:
    """A worker on a vhost of its own whose PostgreSQL link the test can cut; an indirect
    parameter gives it settings of its own (``{"max_handling": 1.0}``)."""
    vhost = f"particulier-pg-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(
        subprocess.run, ["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True
    )
    await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    amqp_url = services.amqp_url.rsplit("/", 1)[0] + "/" + vhost
    async with channel_of(amqp_url) as channel:
        await topology.apply(channel, registry.providers())
    proxy = Proxy()
    await proxy.start()
    url = services.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    pool = await create_pool(url)
    habilitations, journal = Habilitations(pool), Journal(pool, timeout=1.0)
    await habilitations.start()
    await journal.start()
    keyring = KeyRing.load()
    from broker.config import Settings

    instance = Worker(
        [registry.provider("cnav")],
        habilitations=habilitations,
        journal=journal,
        certifier=Certifier(keyring),
        keyring=keyring,
        config=Settings(
            amqp_url=amqp_url, simulator_url=simulator.url, **getattr(request, "param", {})
        ),
    )
    await instance.start()
    yield proxy, amqp_url
    await instance.stop(grace=5)
    await journal.close()
    await habilitations.close()
    await proxy.stop()
    pool.terminate()
    await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "-q", "delete_vhost", vhost],
        check=False,
        capture_output=True,
    )


async def test_postgresql_outage_sends_no_data_and_loses_nothing(
    outage_worker: tuple[Proxy, str],
) -> None:
    proxy, amqp_url = outage_worker
    async with Client(amqp_url) as client:
        first = await client.request(DATASET, person(400), recipient=SIRET, timeout=10)
        assert first.status == 200
        await proxy.stop()
        calls = [
            asyncio.ensure_future(
                client.request(DATASET, person(500 + 3 * i), recipient=SIRET, timeout=60)
            )
            for i in range(20)
        ]
        await asyncio.sleep(3)
        assert not any(c.done() for c in calls), "a reply left while the journal was down"
        await proxy.start()
        replies = await asyncio.gather(*calls)
    assert [r.status for r in replies] == [200] * 20


@pytest.mark.parametrize(
    "outage_worker", [{"max_handling": 1.0, "interactive_prefetch": 1}], indirect=True
)
async def test_request_held_past_its_bound_is_dead_lettered_and_frees_its_slot(
    outage_worker: tuple[Proxy, str], simulator: Simulator
) -> None:
    """An upstream that holds a request longer than the worker's bound (1 s + 2 s of grace
    here) cannot hold the lane's only prefetch slot: the request is dead-lettered."""
    _, amqp_url = outage_worker
    simulator.faults("cnav").latency_ms = 15_000  # type: ignore[attr-defined]
    body = {"dataset": DATASET, "recipient": SIRET, "params": person(500)}
    held = uuid.uuid4().hex
    with pytest.raises(TimeoutError):
        await raw_request(amqp_url, body, message_id=held, timeout=6)
    letter = await take_dead_letter(amqp_url, held, timeout=5)
    assert letter.headers[REASON_HEADER] == "deadline-exceeded"
    simulator.faults("cnav").latency_ms = 0  # type: ignore[attr-defined]
    reply = decode(await raw_request(amqp_url, body, timeout=10))
    assert reply["status"] == 200
