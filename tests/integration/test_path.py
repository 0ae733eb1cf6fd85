"""The broker path end to end: SDK or plain aio-pika -> RabbitMQ -> worker -> simulator."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aio_pika
import pytest
from prometheus_client import REGISTRY

from broker.sdk import Client, ProofError, Reply
from broker.sdk.contract import REASON_HEADER, ReplyBody
from broker.simulation import Population

from .amqp import decode, raw_request, take_dead_letter

DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
POPULATION = Population(1_000_000)


def found_person(start: int = 0) -> dict[str, object]:
    person = next(p for p in map(POPULATION.person, range(start, start + 100)) if p.found)
    return person.params()


async def test_happy_path_returns_every_group_with_a_verified_proof(client: Client) -> None:
    reply = await client.request(DATASET, found_person(), recipient=SIRET, timeout=10)
    assert reply.status == 200, reply.body.errors
    assert reply.data is not None
    assert set(reply.data) == {"allocataires", "enfants", "adresse", "quotient_familial"}
    assert reply.body.meta.provider == "CNAV"
    assert reply.body.meta.dataset == DATASET
    assert reply.body.proof and reply.body.proof.count(".") == 2
    assert set(reply.body.meta.scopes or []) == {
        "cnaf_quotient_familial",
        "cnaf_allocataires",
        "cnaf_enfants",
        "cnaf_adresse",
    }


def _timed(step: str) -> float:
    return REGISTRY.get_sample_value("particulier_step_seconds_count", {"step": step}) or 0.0


async def test_each_step_of_a_request_is_timed_once(client: Client) -> None:
    steps = ("replay", "answer", "cache_read", "cache_write", "seal", "journal", "reply", "ack")
    before = {step: _timed(step) for step in steps}
    reply = await client.request(DATASET, found_person(700), recipient=SIRET, timeout=10)
    assert reply.status == 200
    for _ in range(50):  # the ack is timed after the reply has left
        if _timed("ack") > before["ack"]:
            break
        await asyncio.sleep(0.02)
    assert {step: _timed(step) - before[step] for step in steps} == dict.fromkeys(steps, 1.0)


async def test_unknown_person_is_not_found(client: Client) -> None:
    person = next(p for p in map(POPULATION.person, range(1000)) if not p.found)
    reply = await client.request(DATASET, person.params(), recipient=SIRET, timeout=10)
    assert reply.status == 404
    # the DSS names the organism lacking the file (MSA, CNAF, or both)
    assert [e.code for e in reply.body.errors] in (["10003"], ["23003"], ["35003"])
    assert reply.data is None


async def test_plain_aio_pika_back_office_gets_a_contract_reply(services, worker) -> None:
    message = await raw_request(
        services.amqp_url, {"dataset": DATASET, "recipient": SIRET, "params": found_person(200)}
    )
    assert message is not None and message.correlation_id
    body = ReplyBody.model_validate_json(message.body)
    assert body.status == 200
    assert body.data and body.data["quotient_familial"]["valeur"] > 0


@pytest.mark.parametrize(
    ("body", "status", "code", "parameter"),
    [
        (b"not json", 400, "00801", None),
        (b'["a list"]', 400, "00801", None),
        ({"dataset": "cnav.nope", "recipient": SIRET, "params": {}}, 422, "00802", "dataset"),
        (
            {"dataset": DATASET, "recipient": SIRET, "version": 9, "params": {}},
            422,
            "00802",
            "version",
        ),
        ({"dataset": DATASET, "params": {"nomNaissance": "X"}}, 422, "00203", "recipient"),
        (
            {"dataset": DATASET, "recipient": "12345678901234", "params": {}},
            422,
            "00210",
            "recipient",
        ),
        (
            {
                "dataset": DATASET,
                "recipient": SIRET,
                "params": {
                    "nomNaissance": "",
                    "sexeEtatCivil": "F",
                    "codeCogInseePaysNaissance": "99100",
                },
            },
            422,
            "00366",
            "nomNaissance",
        ),
        (
            {
                "dataset": DATASET,
                "recipient": SIRET,
                "params": {
                    "nomNaissance": "ROUX",
                    "sexeEtatCivil": "X",
                    "codeCogInseePaysNaissance": "99100",
                    "codeCogInseeCommuneNaissance": "75056",
                },
            },
            422,
            "00366",
            "sexeEtatCivil",
        ),
        (
            {
                "dataset": DATASET,
                "recipient": SIRET,
                "params": {
                    "nomNaissance": "ROUX",
                    "sexeEtatCivil": "F",
                    "codeCogInseePaysNaissance": "99100",
                    "codeCogInseeCommuneNaissance": "75056",
                    "anneeDateNaissance": 1980,
                    "moisDateNaissance": 2,
                    "jourDateNaissance": 30,
                },
            },
            422,
            "00366",
            "jourDateNaissance",
        ),
    ],
)
async def test_bad_input_gets_a_coded_error(
    services, worker, body, status, code, parameter
) -> None:
    reply = decode(await raw_request(services.amqp_url, body))
    assert reply["status"] == status
    assert reply["data"] is None
    assert reply["errors"][0]["code"] == code
    source = reply["errors"][0]["source"]
    assert (source or {}).get("parameter") == parameter
    assert reply["proof"]


async def test_missing_correlation_id_is_answered(services, worker) -> None:
    body = {"dataset": DATASET, "recipient": SIRET, "params": found_person()}
    no_correlation = decode(await raw_request(services.amqp_url, body, correlation_id=None))
    assert no_correlation["errors"][0]["code"] == "00801"
    assert no_correlation["errors"][0]["source"] == {"parameter": "correlation_id"}


async def test_request_without_reply_to_is_dead_lettered_with_its_reason(services, worker) -> None:
    marker = uuid.uuid4().hex
    await raw_request(services.amqp_url, b"orphan", reply=False, message_id=marker)
    found = await take_dead_letter(services.amqp_url, marker)
    assert found.headers[REASON_HEADER] == "no-reply-to"
    assert found.body == b"orphan"


async def test_worker_survives_bad_input(client: Client, services) -> None:
    for junk in (b"\xff\xfe", b"{}", b'{"dataset": 3}'):
        await raw_request(services.amqp_url, junk)
    reply = await client.request(DATASET, found_person(300), recipient=SIRET, timeout=10)
    assert reply.status == 200


async def test_request_past_its_deadline_is_not_sent_upstream(services, worker, simulator) -> None:
    before = simulator.received("cnav")
    reply = decode(
        await raw_request(
            services.amqp_url,
            {"dataset": DATASET, "recipient": SIRET, "params": found_person(400)},
            deadline_ms=int(time.time() * 1000) - 1000,
        )
    )
    assert reply["status"] == 504
    assert reply["errors"][0]["code"] == "00803"
    assert simulator.received("cnav") == before


async def test_transient_upstream_failures_are_retried(client: Client, simulator) -> None:
    simulator.faults("cnav").fail_next = 2
    before = simulator.received("cnav")
    reply = await client.request(DATASET, found_person(500), recipient=SIRET, timeout=10)
    assert reply.status == 200
    assert simulator.received("cnav") - before == 3


async def test_upstream_down_for_good_answers_within_the_deadline(
    client: Client, simulator
) -> None:
    simulator.faults("cnav").down = True
    started = time.monotonic()
    reply = await client.request(DATASET, found_person(600), recipient=SIRET, timeout=5)
    assert time.monotonic() - started < 5
    assert reply.status == 504
    assert reply.body.errors[0].code == "37001"
    assert reply.body.errors[0].meta["provider"] == "CNAV"
    assert reply.body.errors[0].meta["retry_in"] > 0


async def test_upstream_timeout_is_bounded_by_the_deadline(client: Client, simulator) -> None:
    simulator.faults("cnav").timeout_rate = 1.0
    started = time.monotonic()
    reply = await client.request(DATASET, found_person(700), recipient=SIRET, timeout=3)
    assert time.monotonic() - started < 3
    assert reply.body.errors[0].code == "37002"


async def test_provider_rate_limit_maps_to_429_with_retry_in(client: Client, simulator) -> None:
    simulator.faults("cnav").rate_limit_rate = 1.0
    reply = await client.request(DATASET, found_person(800), recipient=SIRET, timeout=10)
    assert reply.status == 429
    assert reply.body.errors[0].code == "37008"
    assert reply.retry_in is not None and reply.retry_in >= 1


async def test_thousands_in_flight_each_get_their_own_reply(client: Client) -> None:
    people = [p for p in map(POPULATION.person, range(10_000, 12_000)) if p.found][:1500]
    replies: list[Reply] = await asyncio.gather(
        *(client.request(DATASET, p.params(), recipient=SIRET, timeout=60) for p in people)
    )
    assert all(r.status == 200 for r in replies)
    for person, reply in zip(people, replies, strict=True):
        assert reply.data is not None
        assert reply.data["allocataires"][0]["nom_naissance"] == person.nom_naissance
    assert len({r.correlation_id for r in replies}) == len(people)


async def test_reply_is_verifiable_json_as_published(client: Client) -> None:
    reply = await client.request(DATASET, found_person(900), recipient=SIRET, timeout=10)
    decoded = json.loads(reply.raw)
    assert decoded["meta"]["request_id"] == reply.message_id


async def test_sdk_refuses_a_forged_reply(client: Client, services) -> None:
    """A reply whose data was changed after signing never reaches the caller."""
    genuine = await client.request(DATASET, found_person(1000), recipient=SIRET, timeout=10)
    forged = json.loads(genuine.raw)
    forged["data"]["quotient_familial"]["valeur"] += 1

    async def forge(correlation_id: str, message_id: str) -> None:
        await asyncio.sleep(0.01)
        connection = await aio_pika.connect(services.amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(
                aio_pika.Message(json.dumps(forged).encode(), correlation_id=correlation_id),
                routing_key=client.reply_queue,
            )

    # Intercept the next call's correlation id by publishing the forgery as soon as it is sent.
    original = client.publish

    async def publish_then_forge(*args, **kwargs):
        await forge(kwargs["correlation_id"], kwargs["message_id"])
        await original(*args, **kwargs)

    client.publish = publish_then_forge  # type: ignore[method-assign]
    try:
        with pytest.raises(ProofError):
            await client.request(DATASET, found_person(1000), recipient=SIRET, timeout=10)
    finally:
        client.publish = original  # type: ignore[method-assign]


async def test_health_says_ready_only_once_every_lane_is_consumed(worker) -> None:
    from broker.runtime import Worker

    fresh = Worker(
        list(worker.providers.values()),
        habilitations=worker.habilitations,
        journal=worker.journal,
        certifier=worker.certifier,
        keyring=worker.keyring,
        config=worker.config,
    )
    assert not fresh.healthy()
    assert worker.healthy()


async def test_identical_requests_at_once_cost_one_upstream_call(
    client: Client, simulator: Any
) -> None:
    """Coalescing instead of API Particulier's 409 ``00015``: the same question asked five
    times at once is one upstream call, and five replies of their own."""
    person = next(p for p in map(POPULATION.person, range(7000, 7100)) if p.found)
    simulator.faults("cnav").latency_ms = 300
    try:
        before = simulator.received("cnav")
        replies = await asyncio.gather(
            *(client.request(DATASET, person.params(), recipient=SIRET) for _ in range(5))
        )
        calls = simulator.received("cnav") - before
    finally:
        simulator.reset()
    assert calls == 1
    assert [r.status for r in replies] == [200] * 5
    assert len({r.message_id for r in replies}) == 5
    assert all(r.data == replies[0].data for r in replies)
