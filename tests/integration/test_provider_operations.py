"""Between the requester and the provider: the reply cache, maintenance windows, the breaker
and the pings, over the real RabbitMQ, PostgreSQL and simulators (faults set at run time)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from broker.registry import provider
from broker.runtime import Maintenance, ProviderHealth, Window
from broker.sdk import Client
from broker.simulation import Population

from ..conftest import Services, Simulator, free_port
from .conftest import Agency, grant_scopes, journal_rows

DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
POPULATION = Population(1_000_000)
CNAV = provider("cnav").errors


def people(start: int, *, found: bool = True, count: int = 1) -> list[dict[str, Any]]:
    """``count`` people of the synthetic population from ``start`` on, found or not."""
    chosen = []
    for person in map(POPULATION.person, range(start, start + 100 * count)):
        if person.found is found:
            chosen.append(person.params())
            if len(chosen) == count:
                return chosen
    raise AssertionError("the population has too few such people here")


async def journal_row(services: Services, message_id: str) -> Any:
    (row,) = await journal_rows(services, message_id)
    return row


# -- reply cache ----------------------------------------------------------------------------


async def test_a_repeated_request_is_answered_from_the_cache_and_journaled_so(
    client: Client, simulator: Simulator, services: Services
) -> None:
    (person,) = people(20_000)
    before = simulator.received("cnav")
    first = await client.request(DATASET, person, recipient=SIRET)
    second = await client.request(DATASET, person, recipient=SIRET)
    assert simulator.received("cnav") - before == 1
    assert (first.status, second.status) == (200, 200)
    assert first.body.meta.cached is False and first.body.meta.cache_expires_in is None
    assert second.body.meta.cached is True
    assert 86_000 < (second.body.meta.cache_expires_in or 0) <= 86_400, "QF is kept 24 h"
    assert second.data == first.data
    assert second.message_id != first.message_id
    assert (await journal_row(services, first.message_id))["cached"] is False
    assert (await journal_row(services, second.message_id))["cached"] is True

    fresh = await client.request(DATASET, person, recipient=SIRET, no_cache=True)
    assert simulator.received("cnav") - before == 2, "no-cache asks the provider"
    assert fresh.body.meta.cached is False
    again = await client.request(DATASET, person, recipient=SIRET)
    assert again.body.meta.cached is True
    assert (again.body.meta.cache_expires_in or 0) > 86_390, "no-cache refreshed the row"


async def test_nobody_found_is_cached_an_outage_is_not(
    client: Client, simulator: Simulator
) -> None:
    (nobody,) = people(21_000, found=False)
    first = await client.request(DATASET, nobody, recipient=SIRET)
    second = await client.request(DATASET, nobody, recipient=SIRET)
    assert first.status == second.status == 404
    assert second.body.errors == first.body.errors
    assert (first.body.meta.cached, second.body.meta.cached) == (False, True)

    (person,) = people(21_500)
    simulator.faults("cnav").down = True
    down = await client.request(DATASET, person, recipient=SIRET)
    simulator.reset()
    assert down.status >= 500
    assert down.body.meta.cached is None, "the provider's failure is no answer to keep"
    up = await client.request(DATASET, person, recipient=SIRET)
    assert up.status == 200 and up.body.meta.cached is False


async def test_each_disclosure_from_the_cache_is_masked_by_its_own_requesters_scopes(
    client: Client, agency: Agency, services: Services
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_adresse"]})
    (person,) = people(22_000)
    everything = await client.request(DATASET, person, recipient=SIRET)
    assert everything.data is not None and len(everything.data) == 4
    async with Client(agency.url) as other:
        narrow = await other.request(DATASET, person, recipient=SIRET)
    assert narrow.body.meta.cached is True
    assert narrow.data is not None and set(narrow.data) == {"adresse"}
    assert narrow.body.meta.scopes == ["cnaf_adresse"]
    assert (await journal_row(services, narrow.message_id))["scopes"] == ["cnaf_adresse"]


async def test_the_cache_names_nobody_and_the_purge_command_empties_it(
    client: Client, simulator: Simulator, services: Services
) -> None:
    (person,) = people(23_000)
    await client.request(DATASET, person, recipient=SIRET)
    conn = await asyncpg.connect(services.admin_url)
    try:
        rows = await conn.fetch("SELECT key, sealed FROM reply_cache WHERE dataset = $1", DATASET)
    finally:
        await conn.close()
    assert rows
    name = str(person["nomNaissance"]).encode()
    assert all(name not in bytes(r["sealed"]) and name not in bytes(r["key"]) for r in rows)

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "broker.tooling.cli", "cache", "purge", "--dataset", DATASET],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split()[0].isdigit() and int(done.stdout.split()[0]) >= 1
    before = simulator.received("cnav")
    after = await client.request(DATASET, person, recipient=SIRET)
    assert after.body.meta.cached is False
    assert simulator.received("cnav") == before + 1


async def test_the_cache_forgets_expired_answers_and_keeps_its_bound(services: Services) -> None:
    from broker.cache import ReplyCache

    pool = await asyncpg.create_pool(services.database_url, min_size=1, max_size=2)
    try:
        cache = ReplyCache(pool, secret=b"a test secret of thirty-two bytes!", max_entries=3)
        await pool.execute("DELETE FROM reply_cache")
        keys = [cache.key_of("sdh.statut_sportif", 3, "/r", {"id": str(n)}) for n in range(5)]
        await cache.put(keys[0], dataset="sdh.statut_sportif", lifetime=0, data={"n": 0})
        for n, key in enumerate(keys[1:], 1):
            await cache.put(key, dataset="sdh.statut_sportif", lifetime=60 * n, data={"n": n})
        assert await cache.get(keys[0]) is None, "an expired answer is never given"
        hit = await cache.get(keys[4])
        assert hit is not None and hit.data == {"n": 4} and 230 < hit.expires_in <= 240
        assert await cache.trim() == 2  # the expired one, then the soonest to expire past 3
        kept = [await cache.get(k) for k in keys]
        assert [h.data["n"] if h and h.data else None for h in kept] == [None, None, 2, 3, 4]
        other = ReplyCache(pool, secret=b"another secret, thirty-two bytes", max_entries=3)
        assert await other.get(keys[4]) is None, "sealed under another key: a miss"
    finally:
        await pool.execute("DELETE FROM reply_cache")
        await pool.close()


async def test_a_france_connect_answer_is_kept_per_citizen(
    client: Client, simulator: Simulator
) -> None:
    from broker.simulation.france_connect import mint_token

    from .test_france_connect import citizen_claims

    async def ask(start: int) -> Any:
        claims = citizen_claims(start, scope="openid identite_pivot cnaf_quotient_familial")
        token = await mint_token(f"{simulator.url}/france_connect", claims)
        return await client.request(DATASET, {}, recipient=SIRET, france_connect_token=token)

    first, again, other = await ask(28_000), await ask(28_000), await ask(28_500)
    assert (first.status, again.status, other.status) == (200, 200, 200)
    assert (first.body.meta.cached, again.body.meta.cached) == (False, True)
    assert other.body.meta.cached is False, "another citizen is asked about on their own"
    assert again.data == first.data != other.data


async def test_a_cached_answer_still_needs_a_habilitation(client: Client, agency: Agency) -> None:
    (person,) = people(29_000)
    assert (await client.request(DATASET, person, recipient=SIRET)).status == 200
    async with Client(agency.url) as stranger:
        refused = await stranger.request(DATASET, person, recipient=SIRET)
    assert refused.status == 403 and refused.data is None


# -- maintenance windows ----------------------------------------------------------------------


@pytest.fixture
def window(worker: Any) -> Iterator[Any]:
    """Opens a maintenance window of a provider in the running worker, for the test's span."""
    health = worker.health
    kept = health.maintenance

    def open_for(provider: str, seconds: float) -> datetime:
        now = datetime.now(UTC)
        end = now + timedelta(seconds=seconds)
        opened = Window(provider, start=now - timedelta(seconds=1), end=end)
        health.maintenance = Maintenance((opened,))
        return end

    yield open_for
    health.maintenance = kept


async def test_a_window_answers_at_once_with_the_seconds_left(
    client: Client, simulator: Simulator, window: Any
) -> None:
    window("cnav", 120)
    before = simulator.received("cnav")
    (person,) = people(24_000)
    reply = await client.request(DATASET, person, recipient=SIRET, no_cache=True)
    assert simulator.received("cnav") == before, "the provider is not called in its window"
    assert [e.code for e in reply.body.errors] == [CNAV.unavailable.code]
    assert 110 <= (reply.retry_in or 0) <= 120
    assert reply.body.provider_paused
    assert reply.body.retryable


async def test_a_nightly_run_waits_through_a_window_and_ends_complete(
    client: Client, simulator: Simulator, services: Services, window: Any
) -> None:
    rows = people(25_000, count=40)
    end = window("cnav", 4)
    await asyncio.sleep(1.5)  # the worker looks at its providers every second
    before = simulator.received("cnav")
    session = client.batch(DATASET, rows, recipient=SIRET)
    results: list[Any] = []

    async def run() -> None:
        async for result in session:
            results.append(result)

    running = asyncio.create_task(run())
    await asyncio.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds() - 0.5))
    assert await bulk_consumers(services) == 0, "the worker stopped consuming cnav's bulk lane"
    assert simulator.received("cnav") == before
    assert not results
    await asyncio.wait_for(running, 60)
    assert sorted(r.row for r in results) == list(range(1, 41))
    assert {r.status for r in results} == {200}
    assert session.stats.paused == 0, "they waited in RabbitMQ, none was refused"
    assert session.stats.transient == 0
    assert await bulk_consumers(services) == 1


async def bulk_consumers(services: Services) -> int:
    """Consumers of cnav's bulk lane queue, as RabbitMQ counts them."""
    connection = await aio_pika.connect(services.amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue("particulier.cnav.bulk", passive=True)
        return int(queue.declaration_result.consumer_count)
    finally:
        await connection.close()


async def test_a_run_refused_by_a_window_holds_then_asks_again(
    client: Client, worker: Any, window: Any
) -> None:
    """Requests delivered before the lane paused are answered with the window's code; the
    run holds its sending until the window ends and asks them again, spending no retry."""
    rows = people(26_000, count=10)
    worker._watcher.cancel()  # the lane is not paused: every request meets the window
    try:
        window("cnav", 3)
        session = client.batch(DATASET, rows, recipient=SIRET)
        results = [r async for r in session]
    finally:
        worker._watcher = asyncio.create_task(worker._watch())
    assert {r.status for r in results} == {200}
    assert session.stats.paused >= 1
    assert 1 <= session.stats.paused_seconds <= 4
    assert session.stats.transient == 0


# -- breaker and pings ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def breaker(worker: Any) -> AsyncIterator[ProviderHealth]:
    """The CNAV's health in the running worker, with a 3-failure threshold and 1 s cool-down."""
    health = worker.health.providers
    kept = health["cnav"]
    health["cnav"] = ProviderHealth("cnav", CNAV.unavailable, threshold=3, cool_down=1.0)
    yield health["cnav"]
    health["cnav"] = kept


async def _http_ping(port: int, name: str) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/ping/{name}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_the_breaker_opens_answers_at_once_and_a_probe_closes_it(
    client: Client, simulator: Simulator, worker: Any, breaker: ProviderHealth
) -> None:
    port = free_port()
    await worker.serve_metrics(port)
    assert (await client.ping("cnav")).data["status"] == "unknown"
    simulator.faults("cnav").down = True
    for person in people(27_000, count=3):
        failed = await client.request(DATASET, person, recipient=SIRET, no_cache=True)
        assert failed.status >= 500 and not failed.body.provider_paused
    assert breaker.breaker.value == "open"
    calls = simulator.received("cnav")
    started = time.monotonic()
    refused = await client.request(DATASET, people(27_500)[0], recipient=SIRET, no_cache=True)
    assert time.monotonic() - started < 1.0, "answered at once"
    assert simulator.received("cnav") == calls
    assert [e.code for e in refused.body.errors] == [CNAV.unavailable.code]
    assert refused.retry_in == 1 and refused.body.provider_paused
    ping = await client.ping("cnav")
    assert ping.status == 200
    assert ping.data["status"] == "bad_gateway" and ping.data["breaker"] == "open"
    assert ping.data["last_ok_status"] is None
    status, body = await _http_ping(port, "cnav")
    assert status == 502 and body["status"] == "bad_gateway"

    simulator.reset()
    await asyncio.sleep(1.1)
    probe = await client.request(DATASET, people(27_800)[0], recipient=SIRET, no_cache=True)
    assert probe.status == 200
    assert breaker.breaker.value == "closed"
    status, body = await _http_ping(port, "cnav")
    assert status == 200 and body["status"] == "ok" and body["last_ok_status"]
    metrics = await _metrics(port)
    assert 'particulier_provider_up{provider="cnav"} 1.0' in metrics
    assert 'particulier_provider_breaker_open{provider="cnav"} 0.0' in metrics


async def _metrics(port: int) -> str:
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return await response.text()


async def test_a_ping_names_no_one_and_needs_no_habilitation(agency: Agency, worker: Any) -> None:
    async with Client(agency.url) as stranger:
        reply = await stranger.ping("dgfip")
    assert reply.status == 200
    assert set(reply.data) >= {"status", "last_update", "last_ok_status"}
    assert reply.body.meta.dataset == "dgfip.ping"


async def test_particulier_ping_prints_the_health_and_exits_1_unless_ok(worker: Any) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "broker.tooling.cli", "ping", "sdh"],
        capture_output=True,
        text=True,
    )
    body = json.loads(done.stdout)
    assert body["status"] in ("ok", "bad_gateway", "unknown")
    assert done.returncode == (0 if body["status"] == "ok" else 1)
