"""``particulier demo``: the whole path on this machine, from a fresh start to a summary."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from .. import registry
from ..certification import local_jwks
from ..config import Settings, settings
from ..france_connect import claims_of, new_encryption_key
from ..sdk import Client, Reply, ReplyTimeout
from ..simulation import Population
from ..simulation.france_connect import mint_token

__all__ = ["run_demo", "started"]

DATASET = "cnav.quotient_familial"
RECIPIENT = "13002526500013"
ROUTE = "/v3/dss/quotient_familial/identite"
GATEWAY_PORT = 8800
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"


@asynccontextmanager
async def started(
    args: list[str],
    ready_url: str,
    *,
    env: dict[str, str] | None = None,
    quiet: bool = False,
    timeout: float = 30.0,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``particulier ARGS`` until the block ends, once ``ready_url`` answers 200; then
    SIGTERM (SIGKILL after 30 s). ``quiet`` drops its output."""
    output = asyncio.subprocess.DEVNULL if quiet else None
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broker.tooling.cli",
        *args,
        env=env if env is not None else os.environ.copy(),
        stdout=output,
        stderr=output,
    )
    try:
        ends = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"particulier {args[0]} exited with {process.returncode}")
                try:
                    if (await http.get(ready_url, timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > ends:
                    raise RuntimeError(f"particulier {args[0]} not ready after {timeout:.0f}s")
                await asyncio.sleep(0.2)
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run_demo(count: int, concurrency: int, latency_ms: float) -> int:
    console = Console()
    config = settings()
    sim_port = int(config.simulator_url.rsplit(":", 1)[1].split("/")[0])
    async with AsyncExitStack() as stack:
        console.print(
            f"[bold]Starting[/] the simulators (latency {latency_ms:.0f} ms) and a CNAV worker…"
        )
        env = os.environ.copy()
        if not config.france_connect_key:  # FranceConnect mode needs the broker's own key
            key = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "france_connect.json"
            key.write_text(json.dumps(new_encryption_key()), encoding="utf-8")
            env["PARTICULIER_FRANCE_CONNECT_KEY"] = str(key)
        await stack.enter_async_context(
            started(
                [
                    "simulator",
                    "--port",
                    str(sim_port),
                    "--latency-ms",
                    str(latency_ms),
                    "--jitter-ms",
                    str(latency_ms / 5),
                ],
                f"{config.simulator_url}/_admin/health",
                env=env,
            )
        )
        token = await _gateway_token(env)
        await stack.enter_async_context(
            started(
                ["worker", "cnav", "--processes", "1", "--metrics-port", str(config.metrics_port)],
                f"http://127.0.0.1:{config.metrics_port}/healthz",
                env=env,
            )
        )
        await stack.enter_async_context(
            started(["gateway", "--port", str(GATEWAY_PORT)], f"{GATEWAY}/healthz", env=env)
        )
        population = Population()
        console.print(
            f"A nightly run checks {count} synthetic households against [bold]{DATASET}[/] "
            "through the bulk lane, while a counter clerk asks about one person at a time…"
        )
        async with Client(config.amqp_url, jwks=local_jwks()) as client:
            idle = await _counter(client, population, offset=count, requests=20)
            run = asyncio.create_task(_eligibility_run(client, population, count, concurrency))
            busy = await _counter(client, population, offset=count + 20, until=run)
            statuses, latencies, elapsed = await run
            signed_in = await _france_connect_request(
                client, config, population.person(count + 1000).params()
            )
        over_http = await _over_http(token, population.person(count + 2000).params())

        table = Table(title=f"Nightly run: {count} households, {DATASET}", min_width=60)
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for outcome, n in sorted(statuses.items()):
            table.add_row(outcome, str(n))
        console.print(table)
        if latencies:
            cuts = statistics.quantiles(latencies, n=100)
            console.print(
                f"run: {count / elapsed:,.0f} rows/s over {elapsed:.2f} s, {concurrency} in "
                f"flight; reply latency p50 {cuts[49] * 1000:.0f} ms, p99 "
                f"{cuts[98] * 1000:.0f} ms (simulated upstream {latency_ms:.0f} ms)"
            )
        counter = Table(title="The counter clerk's requests (interactive lane)", min_width=60)
        counter.add_column("")
        counter.add_column("requests", justify="right")
        counter.add_column("p50 ms", justify="right")
        counter.add_column("max ms", justify="right")
        for label, sample in (("broker idle", idle), ("during the nightly run", busy)):
            if sample:
                counter.add_row(
                    label,
                    str(len(sample)),
                    f"{statistics.median(sample) * 1000:.0f}",
                    f"{max(sample) * 1000:.0f}",
                )
        console.print(counter)
        scopes = ", ".join(signed_in.body.meta.scopes or [])
        console.print(
            "FranceConnect mode: a citizen signed in and the agency sent their token instead of "
            f"the identity: {signed_in.status}, scopes {scopes}"
        )
        console.print(
            f"REST gateway ({GATEWAY}): the same dataset as API Particulier serves it, "
            f"GET {ROUTE} with the agency's token: {over_http}"
        )
        console.print(
            "  TOKEN=$(particulier tokens issue Démo | tail -1); curl -H "
            f'"Authorization: Bearer $TOKEN" '
            f"'{GATEWAY}{ROUTE}?recipient={RECIPIENT}&nomNaissance=...&prenoms[]=...'",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    if signed_in.status != 200 or over_http != 200:
        return 1
    failed = sum(n for outcome, n in statuses.items() if not outcome.startswith(("200", "404")))
    return 0 if statuses and not failed else 1


async def _gateway_token(env: dict[str, str]) -> str:
    """A gateway token of the demo agency, issued as an operator issues one."""
    issued = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broker.tooling.cli",
        "tokens",
        "issue",
        "Démo",
        "--days",
        "1",
        "--label",
        "demo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await issued.communicate()
    if issued.returncode != 0:
        raise RuntimeError("particulier tokens issue failed")
    return out.decode().strip().splitlines()[-1]


async def _over_http(token: str, params: dict[str, object]) -> int:
    """One request through the REST gateway, as an existing API Particulier client sends it."""
    from ..gateway import query_pairs

    async with httpx.AsyncClient() as http:
        response = await http.get(
            GATEWAY + ROUTE,
            params=tuple(query_pairs(RECIPIENT, params)),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    return response.status_code


async def _france_connect_request(
    client: Client, config: Settings, identity: dict[str, object]
) -> Reply:
    """One request in FranceConnect mode: a token minted at the FranceConnect simulator for
    ``identity``, consenting to every scope of the dataset, sent instead of the identity."""
    dataset = registry.dataset(DATASET)
    assert dataset is not None
    claims = {**claims_of(identity), "scope": " ".join(["openid", *dataset.scopes])}
    token = await mint_token(config.france_connect_base(), claims)
    return await client.request(
        DATASET, {}, recipient=RECIPIENT, france_connect_token=token, timeout=30
    )


async def _eligibility_run(
    client: Client, population: Population, count: int, window: int
) -> tuple[Counter[str], list[float], float]:
    """The households through :meth:`Client.batch` (the bulk lane): outcomes, latencies."""
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    began = time.perf_counter()
    rows = (population.person(index).params() for index in range(count))
    async with client.batch(DATASET, rows, recipient=RECIPIENT, window=window) as results:
        async for result in results:
            statuses[f"{result.status} {result.code or ''}".strip()] += 1
            if result.latency is not None:
                latencies.append(result.latency)
    return statuses, latencies, time.perf_counter() - began


async def _counter(
    client: Client,
    population: Population,
    *,
    offset: int,
    requests: int | None = None,
    until: asyncio.Task[object] | None = None,
    every: float = 0.2,
) -> list[float]:
    """One interactive request at a time, every ``every`` seconds: their latencies."""
    latencies: list[float] = []
    index = offset
    while (requests is None or len(latencies) < requests) and not (until and until.done()):
        sent = time.perf_counter()
        try:
            await client.request(
                DATASET, population.person(index).params(), recipient=RECIPIENT, timeout=30
            )
        except ReplyTimeout:
            latencies.append(30.0)
        else:
            latencies.append(time.perf_counter() - sent)
        index += 1
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - sent)))
    return latencies
