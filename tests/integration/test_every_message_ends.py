"""Every message ends in a coded reply or a dead letter with its reason, whatever it holds.

Replies go only to the requester's own reply queues; one ``message_id`` of one requester gets
one upstream call and one reply content, redelivered or republished.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from broker.sdk.contract import DEAD_QUEUE, DEADLINE_HEADER, EXCHANGE, REASON_HEADER

from ..conftest import Services, Simulator
from .amqp import channel_of, decode, raw_request, take_dead_letter
from .conftest import DATASET, SIRET, Agency, journal_rows, person

MARKER = "x-test-marker"


def request(index: int, **extra: Any) -> dict[str, Any]:
    return {"dataset": DATASET, "recipient": SIRET, "params": person(index), **extra}


def dead_letters(reason: str) -> float:
    return REGISTRY.get_sample_value("particulier_dead_letters_total", {"reason": reason}) or 0.0


# -- replies go only to the requester's own queues ---------------------------------------------

REFUSED_REPLY_TO = {
    "a lane queue": "particulier.cnav.bulk",
    "the dead-letter queue": DEAD_QUEUE,
    "a direct reply-to address": "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAyNjk0NjM4OAAAAAAAAAAB",
    "a server-named queue": "amq.gen-JzTY20BRgKO-HjmUJj0wLg",
    "the prefix alone": "reply.guest.",
    "the prefix without its dot": "reply.guest",
    "a longer user name": "reply.guests.inbox",
    "another agency's prefix": "reply.someone_else.inbox",
    "a 255-byte name elsewhere": "q" * 255,
}


@pytest.mark.parametrize("reply_to", REFUSED_REPLY_TO.values(), ids=REFUSED_REPLY_TO.keys())
async def test_reply_to_outside_the_requesters_prefix_is_dead_lettered(
    services: Services, worker: object, reply_to: str
) -> None:
    before = dead_letters("reply-to-refused")
    marker = uuid.uuid4().hex
    await raw_request(
        services.amqp_url, request(1), reply=False, reply_to=reply_to, message_id=marker
    )
    letter = await take_dead_letter(services.amqp_url, marker)
    assert letter.headers[REASON_HEADER] == "reply-to-refused"
    assert letter.reply_to == reply_to
    assert dead_letters("reply-to-refused") == before + 1


async def test_a_reply_never_reaches_another_agencys_queue(
    services: Services, worker: object, agency: Agency
) -> None:
    async with channel_of(agency.url) as channel:
        inbox = await channel.declare_queue(f"reply.{agency.user}.inbox", auto_delete=True)
        marker = uuid.uuid4().hex
        await raw_request(
            services.amqp_url, request(2), reply=False, reply_to=inbox.name, message_id=marker
        )
        letter = await take_dead_letter(services.amqp_url, marker)
        assert letter.headers[REASON_HEADER] == "reply-to-refused"
        assert await inbox.get(fail=False) is None


async def test_a_reply_to_a_queue_that_does_not_exist_is_dead_lettered_at_once(
    services: Services, worker: object
) -> None:
    """RabbitMQ returns the reply (no such queue, the requester gone): it is dead-lettered
    ``reply-unroutable`` at once, not published again as a refused one would be."""
    before = dead_letters("reply-unroutable")
    marker = uuid.uuid4().hex
    await raw_request(
        services.amqp_url,
        request(5),
        reply=False,
        reply_to=f"reply.guest.gone-{marker}",
        message_id=marker,
    )
    letter = await take_dead_letter(services.amqp_url, marker, timeout=5.0)  # retries: 7.7 s
    assert letter.headers[REASON_HEADER] == "reply-unroutable"
    assert dead_letters("reply-unroutable") == before + 1


async def test_empty_reply_to_is_dead_lettered(services: Services, worker: object) -> None:
    marker = uuid.uuid4().hex
    await raw_request(services.amqp_url, request(3), reply=False, reply_to="", message_id=marker)
    letter = await take_dead_letter(services.amqp_url, marker)
    assert letter.headers[REASON_HEADER] == "no-reply-to"


async def test_request_without_user_id_is_dead_lettered(services: Services, worker: object) -> None:
    """Without ``user_id`` nobody can say whose queue ``reply_to`` is: no reply is sent."""
    marker = uuid.uuid4().hex
    await raw_request(
        services.amqp_url,
        request(4),
        reply=False,
        user_id=None,
        reply_to="reply.guest.inbox",
        message_id=marker,
    )
    letter = await take_dead_letter(services.amqp_url, marker)
    assert letter.headers[REASON_HEADER] == "reply-to-refused"


async def test_a_255_byte_queue_of_ones_own_is_answered(services: Services, worker: object) -> None:
    name = "reply.guest." + "q" * (255 - len("reply.guest."))
    reply = decode(await raw_request(services.amqp_url, request(5), queue=name))
    assert reply["status"] == 200


# -- any body, any properties: a reply or a dead letter -----------------------------------------

BEYOND_IJSON = {
    "version beyond 2^53": ({"version": 2**70}, "version"),
    "a parameter of 10^30": ({"params": {**person(6), "anneeDateNaissance": 10**30}}, "params"),
    "an integer deep in a list": ({"params": {**person(6), "prenoms": [-(2**60)]}}, "params"),
}


@pytest.mark.parametrize("extra,parameter", BEYOND_IJSON.values(), ids=BEYOND_IJSON.keys())
async def test_integers_beyond_ijson_are_answered_400(
    services: Services, worker: object, extra: dict[str, Any], parameter: str
) -> None:
    reply = decode(await raw_request(services.amqp_url, {**request(6), **extra}))
    assert reply["status"] == 400
    assert reply["errors"][0]["code"] == "00801"
    assert reply["errors"][0]["source"] == {"parameter": parameter}
    assert reply["proof"]


async def test_more_unhashable_requests_than_the_bulk_prefetch_leave_the_lane_working(
    services: Services, worker: object
) -> None:
    """130 such requests used to hold the bulk lane's 128 slots until the consumer timeout."""
    async with channel_of(services.amqp_url, publisher_confirms=True) as channel:
        replies = await channel.declare_queue(f"reply.guest.{uuid.uuid4().hex}", exclusive=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        bodies = [{**request(7), "version": 2**70} for _ in range(130)] + [request(8)]
        for body in bodies:
            await exchange.publish(
                aio_pika.Message(
                    json.dumps(body).encode(),
                    correlation_id=uuid.uuid4().hex,
                    message_id=uuid.uuid4().hex,
                    reply_to=replies.name,
                    user_id="guest",
                ),
                routing_key="bulk." + DATASET,
            )
        statuses: list[int] = []
        async with asyncio.timeout(60), replies.iterator(no_ack=True) as stream:
            async for reply in stream:
                statuses.append(decode(reply)["status"])
                if len(statuses) == len(bodies):
                    break
    assert sorted(statuses) == [200] + [400] * 130


@dataclass
class Ends:
    """Where a request can end: its reply queue, or ``particulier.dead`` (by marker)."""

    amqp_url: str
    channel: aio_pika.abc.AbstractChannel
    replies: aio_pika.abc.AbstractQueue
    received: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    dead: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    published: int = 0

    async def publish(self, body: bytes, routing_key: str, **properties: Any) -> str:
        marker = uuid.uuid4().hex
        properties.setdefault("headers", {})[MARKER] = marker
        exchange = await self.channel.get_exchange(EXCHANGE, ensure=False)
        await exchange.publish(aio_pika.Message(body, **properties), routing_key=routing_key)
        self.published += 1
        return marker

    async def end_of(self, marker: str, timeout: float = 20.0) -> str:
        """``reply`` or the dead letter's reason, whichever comes first."""
        async with asyncio.timeout(timeout):
            while True:
                if not self.received.empty():
                    self.received.get_nowait()
                    return "reply"
                if marker in self.dead:
                    return self.dead.pop(marker)
                self.arrived.clear()
                await self.arrived.wait()


@pytest_asyncio.fixture
async def ends(services: Services, worker: object) -> AsyncIterator[Ends]:
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        replies = await channel.declare_queue(f"reply.guest.{uuid.uuid4().hex}", exclusive=True)
        found = Ends(services.amqp_url, channel, replies)

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            found.received.put_nowait(message.body)
            found.arrived.set()

        async def on_dead(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            marker = (message.headers or {}).get(MARKER)
            if isinstance(marker, str):  # ours; the others go back when the channel closes
                found.dead[marker] = str(message.headers[REASON_HEADER])
                await message.ack()
                found.arrived.set()

        await replies.consume(on_reply, no_ack=True)
        dead_channel = await connection.channel()
        await dead_channel.set_qos(prefetch_count=1000)
        dead = await dead_channel.get_queue(DEAD_QUEUE, ensure=False)
        await dead.consume(on_dead)
        yield found


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
param_names = st.sampled_from(
    ["nomNaissance", "prenoms", "sexeEtatCivil", "anneeDateNaissance", "codeCogInseeCommune"]
)
bodies = st.one_of(
    st.binary(max_size=48),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"dataset": st.sampled_from([DATASET, "cnav.nope", "nope.nope", "x"]) | st.text()},
        optional={
            "version": st.integers() | json_values,
            "recipient": st.just(SIRET) | json_values,
            "params": st.dictionaries(param_names, json_values) | json_values,
        },
    ).map(lambda v: json.dumps(v).encode()),
)
short_text = st.text(st.characters(codec="utf-8"), max_size=40)
header_values = (
    st.none()
    | st.integers(-(2**63), 2**63 - 1)
    # pamqp encodes a float header in 32 bits; RabbitMQ closes the connection on NaN and inf
    | st.floats(width=32, allow_nan=False, allow_infinity=False)
    | short_text
    | st.booleans()
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    message_id=st.none() | short_text,
    correlation_id=st.none() | short_text,
    user_id=st.sampled_from([None, "guest"]),
    reply_to=st.sampled_from(["own", None, "", "reply.someone_else.inbox", DEAD_QUEUE]),
    deadline=header_values,
    message_type=st.none() | short_text,
    lane=st.sampled_from(["interactive", "bulk"]),
    dataset=st.sampled_from([DATASET, "cnav.nope"]),
)
async def test_any_body_and_properties_end_in_a_reply_or_a_dead_letter(
    ends: Ends,
    body: bytes,
    message_id: str | None,
    correlation_id: str | None,
    user_id: str | None,
    reply_to: str | None,
    deadline: object,
    message_type: str | None,
    lane: str,
    dataset: str,
) -> None:
    marker = await ends.publish(
        body,
        f"{lane}.{dataset}",
        message_id=message_id,
        correlation_id=correlation_id,
        user_id=user_id,
        reply_to=ends.replies.name if reply_to == "own" else reply_to,
        headers={DEADLINE_HEADER: deadline},
        type=message_type,
    )
    end = await ends.end_of(marker)
    expected_reply = reply_to == "own" and user_id == "guest"
    if expected_reply:
        assert end == "reply"
    else:
        assert end == ("no-reply-to" if not reply_to else "reply-to-refused")


# -- one message_id, one upstream call, one reply content --------------------------------------


async def _journal_rows(services: Services, message_id: str) -> list[bool]:
    """The ``cached`` flag of each journal row of ``message_id``, oldest first."""
    return [row["cached"] for row in await journal_rows(services, message_id)]


async def test_a_republished_request_is_answered_from_the_journal(
    services: Services, worker: object, simulator: Simulator
) -> None:
    message_id = uuid.uuid4().hex
    calls = simulator.received("cnav")
    first = await raw_request(services.amqp_url, request(9), message_id=message_id)
    again = await raw_request(services.amqp_url, request(9), message_id=message_id)
    assert first is not None and again is not None
    assert decode(first)["status"] == 200
    assert again.body == first.body
    assert simulator.received("cnav") == calls + 1
    assert await _journal_rows(services, message_id) == [False, True]


async def test_copies_published_at_once_make_one_upstream_call(
    services: Services, worker: object, simulator: Simulator
) -> None:
    message_id = uuid.uuid4().hex
    calls = simulator.received("cnav")
    copies = await asyncio.gather(
        *(raw_request(services.amqp_url, request(10), message_id=message_id) for _ in range(3))
    )
    bodies = {copy.body for copy in copies if copy is not None}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["status"] == 200
    assert simulator.received("cnav") == calls + 1
    assert sorted(await _journal_rows(services, message_id)) == [False, True, True]


async def test_a_message_id_reused_for_another_request_is_refused(
    services: Services, worker: object
) -> None:
    message_id = uuid.uuid4().hex
    first = decode(await raw_request(services.amqp_url, request(11), message_id=message_id))
    other = decode(await raw_request(services.amqp_url, request(12), message_id=message_id))
    assert first["status"] == 200
    assert other["status"] == 409
    assert other["errors"][0]["code"] == "00805"
    assert other["data"] is None
