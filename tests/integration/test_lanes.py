"""Lane priority in a real worker: the bulk lane gives way to interactive traffic on the loop
without giving up the upstream concurrency that hides a slow provider."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from broker.sdk import Client
from broker.sdk.contract import Lane

from .test_path import SIRET, found_person

DATASET = "cnav.quotient_familial"


def _held_back() -> float:
    return REGISTRY.get_sample_value("particulier_bulk_held_back") or 0.0


async def test_bulk_calls_wait_on_a_slow_upstream_together_while_a_person_waits(
    client: Client, simulator
) -> None:
    simulator.faults("cnav").latency_ms = 1500
    before = simulator.received("cnav")
    person = asyncio.create_task(
        client.request(DATASET, found_person(2_000), recipient=SIRET, timeout=20)
    )
    await asyncio.sleep(0.1)
    bulk = [
        asyncio.create_task(
            client.request(
                DATASET, found_person(2_100 + 50 * i), recipient=SIRET, lane=Lane.BULK, timeout=20
            )
        )
        for i in range(20)
    ]
    for _ in range(60):
        if simulator.received("cnav") - before == 21:
            break
        await asyncio.sleep(0.02)
    assert simulator.received("cnav") - before == 21, (
        "with a floor of one, every bulk call still reached the slow upstream at once"
    )
    replies = await asyncio.gather(person, *bulk)
    assert [r.status for r in replies] == [200] * 21
    assert _held_back() == 0


async def test_bulk_requests_are_held_back_while_interactive_traffic_passes(
    client: Client, simulator
) -> None:
    simulator.faults("cnav").latency_ms = 300
    people = [
        asyncio.create_task(
            client.request(DATASET, found_person(3_000 + 50 * i), recipient=SIRET, timeout=20)
        )
        for i in range(3)
    ]
    await asyncio.sleep(0.1)
    simulator.faults("cnav").latency_ms = 0
    bulk = [
        asyncio.create_task(
            client.request(
                DATASET, found_person(3_200 + 50 * i), recipient=SIRET, lane=Lane.BULK, timeout=20
            )
        )
        for i in range(60)
    ]
    peak = 0.0
    while not all(t.done() for t in bulk):
        peak = max(peak, _held_back())
        await asyncio.sleep(0.002)
    assert peak > 0, "bulk requests waited at the gate while people were served"
    replies = await asyncio.gather(*people, *bulk)
    assert all(r.status == 200 for r in replies)
    assert _held_back() == 0
