"""The measured cases of issue 6, each run several times in one set-up.

Every run records its own figures, the CPU seconds of each process involved (read from
``/proc``: the worker, the simulator, this client process, RabbitMQ's ``beam.smp`` and the
PostgreSQL backends of the benchmark's database) and the load average around it, so that a
figure depressed by a busy machine can be recognised as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from broker.sdk import Client
from broker.sdk.contract import Lane

from . import baseline, profiling
from .environment import (
    ROOT,
    BenchEnv,
    CpuMeter,
    Service,
    free_port,
    load_average,
    postgres_pids,
    rabbitmq_pids,
    with_children,
)
from .load import (
    DATASET,
    RECIPIENT,
    LoadResult,
    closed_loop,
    open_loop,
    paced,
    request_params,
)
from .stats import percentiles, spread

__all__ = ["CASES", "Bench", "Config"]

PROVIDER = "cnav"
INTERACTIVE_QUEUE = f"particulier.{PROVIDER}.interactive"
BULK_QUEUE = f"particulier.{PROVIDER}.bulk"


@dataclass(frozen=True)
class Config:
    runs: int = 3
    requests: int = 20_000
    concurrency: int = 256
    warmup: int = 1_000
    latency_duration: float = 30.0
    idle_requests: int = 500
    """Requests of the idle case, one at a time, on each side."""
    hiding_requests: int = 20_000
    hiding_latency_ms: float = 200.0
    hiding_jitter_ms: float = 50.0
    batch_rows: int = 100_000
    profile_seconds: float = 20.0
    profile_rate: int = 100
    cost_requests: int = 6_000
    cost_runs: int = 5
    """Rounds of the signing/journal ablation: its effects are near the machine's noise."""
    probe_rate: float = 25.0
    probe_seconds: float = 30.0
    clerk_rate: float = 5.0
    """The counter clerk of ``make demo``: one request every 0.2 s."""
    clerk_latency_ms: float = 50.0
    flood_concurrency: int = 512
    coalescing_people: int = 5_000
    cache_requests: int = 5_000
    gateway_rates: tuple[float, ...] = (25.0, 100.0, 200.0)
    gateway_seconds: float = 20.0
    soak_seconds: float = 1200.0
    soak_window: float = 60.0
    """The soak's figures are given per window (a minute)."""

    @classmethod
    def quick(cls) -> Config:
        return cls(
            runs=1,
            requests=2_000,
            warmup=200,
            latency_duration=6.0,
            idle_requests=100,
            hiding_requests=2_000,
            batch_rows=2_000,
            profile_seconds=5.0,
            cost_requests=1_500,
            cost_runs=1,
            probe_seconds=6.0,
            coalescing_people=1_000,
            cache_requests=1_000,
            gateway_rates=(25.0, 100.0),
            gateway_seconds=5.0,
            soak_seconds=20.0,
            soak_window=5.0,
        )


@dataclass
class Bench:
    env: BenchEnv
    config: Config
    results: dict[str, Any] = field(default_factory=dict)
    simulator: Service | None = None
    worker: Service | None = None
    worker_kind: str = ""
    jwks: dict[str, Any] = field(default_factory=dict)
    jwks_file: Path | None = None
    reply_bytes: int = 1200
    log: Callable[[str], None] = print
    extra_workers: list[Service] = field(default_factory=list)
    gateway: Service | None = None
    """``particulier gateway``, once case 9 started it."""
    gateway_token: str = ""
    profiles: list[Path] = field(default_factory=list)
    """py-spy raw files of the worker in the profile case (in the work directory)."""
    client_profiles: list[Path] = field(default_factory=list)
    """py-spy raw files of this process (the SDK client) in the profile case."""
    _params: list[dict[str, Any]] = field(default_factory=list)

    # -- shared machinery ------------------------------------------------------------------

    async def start(self) -> None:
        self.simulator = await self.env.start_simulator()
        self.jwks = self.env.jwks()
        self.jwks_file = self.env.workdir / "jwks.json"
        self.jwks_file.write_text(json.dumps(self.jwks))
        size = max(self.config.requests, self.config.hiding_requests, self.config.cost_requests)
        self._params = request_params(size)
        await self.use_worker("production")
        async with self.client() as client:
            reply = await client.request(DATASET, self._params[0], recipient=RECIPIENT)
            self.reply_bytes = len(reply.raw)
        self.log(f"first reply: status {reply.status}, {self.reply_bytes} bytes")
        await self.warm()

    def params(self, index: int) -> Mapping[str, Any]:
        return self._params[index % len(self._params)]

    def client(self, *, verify: bool = True, lane: Lane = Lane.INTERACTIVE) -> Client:
        return Client(self.env.amqp_url, lane=lane, verify=verify, jwks=self.jwks)

    async def use_worker(self, variant: str, extra_env: Mapping[str, str] | None = None) -> Service:
        """Make ``variant`` the only worker consuming (one worker process at a time)."""
        kind = variant + json.dumps(dict(extra_env or {}), sort_keys=True)
        if self.worker is not None and self.worker.alive() and self.worker_kind == kind:
            return self.worker
        await self.stop_workers()
        self.worker = await self.env.start_worker(variant=variant, extra_env=extra_env)
        self.worker_kind = kind
        self.log(f"worker {variant} {dict(extra_env or {})} started (pid {self.worker.pid})")
        return self.worker

    async def stop_workers(self) -> None:
        for service in [self.worker, *self.extra_workers]:
            if service is not None:
                await self.env.stop(service)
        self.worker = None
        self.extra_workers.clear()
        self.worker_kind = ""

    async def use_split_lanes(self, bulk_nice: int) -> None:
        """One worker process per lane, the bulk one at a lower priority (``bulk_nice``)."""
        kind = f"split-{bulk_nice}"
        if self.worker_kind == kind and self.worker is not None and self.worker.alive():
            return
        await self.stop_workers()
        self.worker = await self.env.start_worker(lane="interactive", name="worker-interactive")
        self.extra_workers.append(
            await self.env.start_worker(lane="bulk", nice=bulk_nice, name="worker-bulk")
        )
        self.worker_kind = kind
        self.log(
            f"split workers started: interactive pid {self.worker.pid}, bulk pid "
            f"{self.extra_workers[0].pid} (nice +{bulk_nice})"
        )

    async def warm(self, verify: bool = True) -> None:
        async with self.client(verify=verify) as client:
            await closed_loop(
                client,
                self.params,
                concurrency=self.config.concurrency,
                count=self.config.warmup,
            )

    def meter(self, **extra: Callable[[], list[int]]) -> CpuMeter:
        groups: dict[str, Callable[[], list[int]]] = {
            "client": lambda: [os.getpid()],
            "rabbitmq": rabbitmq_pids,
        }
        if self.worker is not None:
            worker = self.worker
            groups["worker"] = lambda: with_children(worker.pid)
        if self.extra_workers:
            extra_pids = [w.pid for w in self.extra_workers]
            groups["bulk_worker"] = lambda: extra_pids
        if self.simulator is not None:
            simulator = self.simulator
            groups["simulator"] = lambda: [simulator.pid]
        database = self.env.database
        groups["postgres"] = lambda: postgres_pids(database)
        groups.update(extra)
        return CpuMeter(groups)

    def record(self, case: str, run: dict[str, Any]) -> None:
        entry = self.results.setdefault(case, {"runs": []})
        entry["runs"].append(run)

    def figures(self, case: str, key: str) -> list[Any]:
        return [r.get(key) for r in self.results.get(case, {}).get("runs", [])]

    def median(self, case: str, key: str) -> float | None:
        value = spread(self.figures(case, key))["median"]
        return None if value is None else float(value)

    async def measure_path(
        self,
        count: int,
        *,
        verify: bool = True,
        concurrency: int | None = None,
        lane: Lane = Lane.INTERACTIVE,
    ) -> dict[str, Any]:
        """A closed-loop run of the path with the current worker."""
        meter = self.meter()
        load_before = load_average()
        async with self.client(verify=verify, lane=lane) as client:
            meter.start()
            result = await closed_loop(
                client,
                self.params,
                concurrency=concurrency or self.config.concurrency,
                count=count,
                lane=lane,
            )
            meter.stop()
        return _run_figures(result, meter, load_before)


def _run_figures(result: LoadResult, meter: CpuMeter, load_before: list[float]) -> dict[str, Any]:
    summary = result.summary()
    answered = max(1, result.answered)
    return {
        "throughput_rps": summary["throughput_rps"],
        "requests": summary["sent"],
        "answered": summary["answered"],
        "elapsed_s": summary["elapsed_s"],
        "latency_ms": summary["latency_ms"],
        "statuses": summary["statuses"],
        "failures": summary["failures"],
        "cpu_s": meter.result,
        "cpu_ms_per_request": meter.per_request_ms(answered),
        "cpu_cores_used": meter.utilisation(),
        "load_before": load_before,
        "load_after": load_average(),
    }


def _summary(bench: Bench, case: str, keys: Sequence[str]) -> dict[str, Any]:
    runs = bench.results.get(case, {}).get("runs", [])

    def get(run: dict[str, Any], key: str) -> Any:
        value: Any = run
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return {key: spread([get(r, key) for r in runs]) for key in keys}


_PATH_KEYS = (
    "throughput_rps",
    "latency_ms.p50",
    "latency_ms.p99",
    "cpu_ms_per_request.worker",
    "cpu_ms_per_request.client",
    "cpu_ms_per_request.rabbitmq",
    "cpu_ms_per_request.simulator",
    "cpu_ms_per_request.postgres",
)


# -- case 1 ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def replier(bench: Bench) -> AsyncIterator[Service]:
    """The baseline's replier process, consuming its queue until the block ends."""
    env = bench.env
    await baseline.declare(env.amqp_url)

    async def consuming() -> bool:
        return (await env.queue_state(baseline.QUEUE))[1] > 0

    service = await env.spawn(
        "baseline-replier",
        [
            "-m",
            "benchmarks.baseline",
            "--url",
            env.amqp_url,
            "--prefetch",
            str(bench.config.concurrency),
            "--reply-bytes",
            str(bench.reply_bytes),
        ],
        ready=consuming,
    )
    try:
        yield service
    finally:
        await env.stop(service)


def baseline_bodies(bench: Bench, count: int) -> list[bytes]:
    """The same request bodies as the SDK publishes."""
    return [
        json.dumps(
            {"dataset": DATASET, "recipient": RECIPIENT, "params": bench.params(i)},
            ensure_ascii=False,
        ).encode()
        for i in range(count)
    ]


async def case_baseline(bench: Bench, run: int) -> None:
    url = bench.env.amqp_url
    bodies = baseline_bodies(bench, bench.config.requests)
    async with replier(bench) as service:
        await baseline.run_client(
            url, bodies[: bench.config.warmup], concurrency=bench.config.concurrency
        )
        meter = CpuMeter(
            {
                "client": lambda: [os.getpid()],
                "replier": lambda: [service.pid],
                "rabbitmq": rabbitmq_pids,
            }
        )
        load_before = load_average()
        meter.start()
        result = await baseline.run_client(url, bodies, concurrency=bench.config.concurrency)
        meter.stop()
    figures = _run_figures(result, meter, load_before)
    figures["reply_bytes"] = bench.reply_bytes
    bench.record("baseline", figures)
    bench.log(f"baseline run {run + 1}: {figures['throughput_rps']:.0f} req/s")


# -- case 2 ---------------------------------------------------------------------------------


async def case_path(bench: Bench, run: int) -> None:
    await bench.use_worker("production")
    figures = await bench.measure_path(bench.config.requests)
    base = bench.figures("baseline", "throughput_rps")
    if len(base) > run and base[run]:
        figures["ratio_to_baseline"] = round(figures["throughput_rps"] / base[run], 3)
    worker_ms = figures["cpu_ms_per_request"].get("worker")
    if worker_ms:
        figures["worker_cpu_bound_rps"] = round(1000 / worker_ms, 1)
    bench.record("path", figures)
    bench.log(
        f"path run {run + 1}: {figures['throughput_rps']:.0f} req/s, "
        f"ratio {figures.get('ratio_to_baseline')}, worker {worker_ms} ms CPU/request"
    )


def ratio_of_medians(bench: Bench) -> dict[str, Any]:
    """Case 2's median throughput over case 1's, beside the ratios of paired runs."""
    base = bench.median("baseline", "throughput_rps")
    path = bench.median("path", "throughput_rps")
    return {"ratio_of_medians": round(path / base, 3)} if base and path else {}


async def reference_throughput(bench: Bench) -> float:
    """Case 2's median, or a shorter measurement of it when case 2 was not selected."""
    value = bench.median("path", "throughput_rps")
    if value:
        return value
    if "path_reference" in bench.results:
        return float(bench.results["path_reference"]["throughput_rps"])
    await bench.use_worker("production")
    figures = await bench.measure_path(min(bench.config.requests, 5_000))
    bench.results["path_reference"] = figures
    bench.log(f"reference path throughput: {figures['throughput_rps']:.0f} req/s")
    return float(figures["throughput_rps"])


# -- case 3 ---------------------------------------------------------------------------------


async def case_latency(bench: Bench, run: int) -> None:
    rate = 0.5 * await reference_throughput(bench)
    await bench.use_worker("production")
    meter = bench.meter()
    load_before = load_average()
    async with bench.client() as client:
        meter.start()
        result = await open_loop(
            client, bench.params, rate=rate, duration=bench.config.latency_duration
        )
        meter.stop()
    # the transport alone at the same pace: what RabbitMQ (quorum queue, confirms, fsync)
    # costs of the latency budget on this machine
    async with replier(bench):
        transport = await baseline.run_client(
            bench.env.amqp_url,
            baseline_bodies(bench, 1000),
            rate=rate,
            duration=bench.config.latency_duration,
        )
    upstream = await bench.env.upstream_ms(result.message_ids)
    net = [
        lat - upstream[mid] / 1000
        for lat, mid in zip(result.latencies, result.message_ids, strict=True)
        if mid in upstream
    ]
    figures = _run_figures(result, meter, load_before)
    figures["target_rate_rps"] = round(rate, 1)
    figures["latency_less_upstream_ms"] = percentiles(net)
    figures["upstream_ms"] = percentiles([v / 1000 for v in upstream.values()])
    figures["transport_only_latency_ms"] = percentiles(transport.latencies)
    bench.record("latency", figures)
    bench.log(
        f"latency run {run + 1} at {rate:.0f} req/s: e2e p50 {figures['latency_ms'].get('p50')} "
        f"p99 {figures['latency_ms'].get('p99')} ms; less upstream p50 "
        f"{figures['latency_less_upstream_ms'].get('p50')} p99 "
        f"{figures['latency_less_upstream_ms'].get('p99')} ms"
    )


IDLE_PEOPLE_FROM = 200_000
"""The idle case asks for distinct people from there on (``idle_requests`` per round), as a
clerk does: each request a miss of the reply cache."""

IDLE_STEPS = (
    "processing",
    "replay",
    "answer",
    "cache_read",
    "upstream",
    "cache_write",
    "seal",
    "journal",
    "reply",
    "ack",
)
"""The worker's timed steps the idle case reports, in the path's order (``answer`` holds the
cache's and the upstream's; ``processing`` holds them all)."""


async def case_idle(bench: Bench, run: int) -> None:
    """One request at a time on an idle broker, provider at zero latency: the path's round
    trip against the raw transport's with the same durability (quorum queue, persistent
    messages, publisher confirms), in turn, the first alternating by round; and the mean
    time of each step of the worker's path (``particulier_step_seconds``)."""
    count = bench.config.idle_requests
    worker = await bench.use_worker("production")
    people = _people_from(IDLE_PEOPLE_FROM + run * count)

    async def path() -> LoadResult:
        async with bench.client() as client:
            return await closed_loop(client, people, concurrency=1, count=count)

    async def raw() -> LoadResult:
        async with replier(bench):
            bodies = baseline_bodies(bench, count)
            return await baseline.run_client(bench.env.amqp_url, bodies, concurrency=1)

    before = await bench.env.step_seconds(worker)
    if run % 2 == 0:
        result, transport = await path(), await raw()
    else:
        transport, result = await raw(), await path()
    after = await bench.env.step_seconds(worker)
    steps_ms = {}
    for step in IDLE_STEPS:
        (seconds, times), (seconds_before, times_before) = (
            after.get(step, (0.0, 0.0)),
            before.get(step, (0.0, 0.0)),
        )
        if times > times_before:
            steps_ms[step] = round(1000 * (seconds - seconds_before) / (times - times_before), 3)
    latency, raw_latency = percentiles(result.latencies), percentiles(transport.latencies)
    figures = {
        "latency_ms": latency,
        "transport_latency_ms": raw_latency,
        "ratio_p50": round(latency["p50"] / raw_latency["p50"], 2),
        "steps_ms": steps_ms,
        "statuses": dict(result.statuses),
        "path_first": run % 2 == 0,
    }
    bench.record("idle", figures)
    bench.log(
        f"idle run {run + 1}: path p50 {latency['p50']} ms, transport p50 {raw_latency['p50']} "
        f"ms ({figures['ratio_p50']}x); worker steps (ms) {steps_ms}"
    )


# -- case 4 ---------------------------------------------------------------------------------


def hiding_in_flight(reference_rps: float, latency_ms: float) -> int:
    """In flight for 0.9x the reference through ``latency_ms`` upstream, with 2.5x headroom
    (Little's law), in multiples of 64, at least 256."""
    needed = 0.9 * reference_rps * (latency_ms + 25) / 1000
    return max(256, math.ceil(needed * 2.5 / 64) * 64)


async def case_hiding(bench: Bench, run: int) -> None:
    reference = await reference_throughput(bench)
    cfg = bench.config
    in_flight = hiding_in_flight(reference, cfg.hiding_latency_ms)
    extra = {
        "PARTICULIER_INTERACTIVE_PREFETCH": str(in_flight),
        "PARTICULIER_UPSTREAM_MAX_CONNECTIONS": str(max(512, in_flight)),
    }
    await bench.use_worker("production", extra)
    # case 2's conditions again, just before: on a shared machine the paired ratio is the fair one
    paired = await bench.measure_path(cfg.cost_requests)
    await bench.env.set_faults(
        PROVIDER, {"latency_ms": cfg.hiding_latency_ms, "jitter_ms": cfg.hiding_jitter_ms}
    )
    try:
        figures = await bench.measure_path(cfg.hiding_requests, concurrency=in_flight)
    finally:
        await bench.env.set_faults(PROVIDER, {"reset": True})
    figures["reference_rps"] = round(reference, 1)
    figures["ratio_to_path"] = round(figures["throughput_rps"] / reference, 3)
    figures["paired_zero_latency_rps"] = paired["throughput_rps"]
    figures["paired_ratio"] = round(figures["throughput_rps"] / paired["throughput_rps"], 3)
    figures["settings"] = extra
    figures["client_in_flight"] = in_flight
    bench.record("hiding", figures)
    bench.log(
        f"hiding run {run + 1}: {figures['throughput_rps']:.0f} req/s with {in_flight} in "
        f"flight = {figures['ratio_to_path']:.2f} of case 2, {figures['paired_ratio']:.2f} of "
        f"the path at zero latency just before ({paired['throughput_rps']:.0f} req/s)"
    )


def hiding_settings(bench: Bench) -> dict[str, Any]:
    """The worker settings of case 4's last run, for the report to quote."""
    runs = bench.results.get("hiding", {}).get("runs", [])
    return {"settings": runs[-1]["settings"]} if runs else {}


# -- case 5 ---------------------------------------------------------------------------------


BATCH_BENCH = "benchmarks.bench_batch"


async def case_batch(bench: Bench, run: int) -> None:
    """``benchmarks/bench_batch.py`` (a colleague's; called, not copied): 100,000 rows through
    ``particulier batch run`` in a world of its own; rows/s and the runner's peak RSS
    (``wait4``'s ru_maxrss for that one process). This run's own worker is stopped meanwhile
    so that it takes no CPU."""
    await bench.stop_workers()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        BATCH_BENCH,
        "--rows",
        str(bench.config.batch_rows),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=bench.env.env,
        cwd=str(ROOT),
    )
    try:
        out, err = await process.communicate()
    except asyncio.CancelledError:
        # SIGINT lets bench_batch remove its own vhost and database
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
        raise
    if process.returncode != 0:
        raise RuntimeError(
            f"{BATCH_BENCH} exited with {process.returncode}:\n"
            f"{err.decode(errors='replace')[-2000:]}"
        )
    text = out.decode(errors="replace")
    figures: dict[str, Any] = json.loads(text[text.index("{") :])
    figures["peak_rss_mib"] = figures.get("runner_peak_rss_mib")
    bench.record("batch", figures)
    bench.log(
        f"batch run {run + 1}: {figures['rows']} rows in {figures['elapsed_s']} s = "
        f"{figures['rows_per_s']:.0f} rows/s, runner peak RSS {figures['peak_rss_mib']} MiB"
    )


# -- case 7: coalescing ------------------------------------------------------------------------


async def _upstream_calls(bench: Bench) -> int:
    async with httpx.AsyncClient() as http:
        health = await http.get(f"{bench.env.simulator_url}/_admin/health", timeout=10)
    return int(health.json()["received"].get(PROVIDER, 0))


async def case_coalescing(bench: Bench, run: int) -> None:
    """A nightly run in which every person appears twice, one after the other (a file with
    duplicates, or two agencies' runs at once), on the bulk lane with the upstream at 50 ms:
    how many upstream calls it costs. Without coalescing it would be one per row."""
    await bench.use_worker("production")
    people = bench.config.coalescing_people
    rows = [bench.params(i) for i in range(people) for _ in range(2)]
    await bench.env.set_faults(PROVIDER, {"latency_ms": 50})
    try:
        before = await _upstream_calls(bench)
        async with bench.client(lane=Lane.BULK) as client:
            statuses: Counter[int] = Counter()
            async with client.batch(DATASET, rows, recipient=RECIPIENT, window=256) as results:
                async for result in results:
                    statuses[result.status] += 1
        calls = await _upstream_calls(bench) - before
    finally:
        await bench.env.set_faults(PROVIDER, {"reset": True})
    figures = {
        "rows": len(rows),
        "people": people,
        "upstream_calls": calls,
        "calls_per_row": round(calls / len(rows), 3),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    bench.record("coalescing", figures)
    bench.log(
        f"coalescing run {run + 1}: {len(rows)} rows for {people} people cost {calls} upstream "
        f"calls ({figures['calls_per_row']} per row)"
    )


# -- case 8: the reply cache ------------------------------------------------------------------


async def case_cache(bench: Bench, run: int) -> None:
    """What the reply cache costs a run of people asked for the first time (a look-up and an
    upsert in PostgreSQL per request), against a worker without it, and what it saves when the
    same people are asked again, with the upstream at 50 ms."""
    count = bench.config.cache_requests
    await bench.env.set_faults(PROVIDER, {"latency_ms": 50})
    try:
        await bench.use_worker("production", {"PARTICULIER_CACHE": "false"})
        without = await bench.measure_path(count)
        await bench.use_worker("production")
        await bench.env.empty_cache()
        before = await _upstream_calls(bench)
        misses = await bench.measure_path(count)
        between = await _upstream_calls(bench)
        hits = await bench.measure_path(count)
        after = await _upstream_calls(bench)
    finally:
        await bench.env.set_faults(PROVIDER, {"reset": True})
    figures: dict[str, Any] = {"requests": count}
    for name, measured in (("without", without), ("misses", misses), ("hits", hits)):
        figures[name] = {
            "throughput_rps": measured["throughput_rps"],
            "latency_ms": measured["latency_ms"],
            "worker_cpu_ms": measured["cpu_ms_per_request"].get("worker"),
            "postgres_cpu_ms": measured["cpu_ms_per_request"].get("postgres"),
        }
    figures["upstream_calls_misses"] = between - before
    figures["upstream_calls_hits"] = after - between
    bench.record("cache", figures)
    bench.log(
        f"cache run {run + 1}: {without['throughput_rps']:.0f} req/s without, "
        f"{misses['throughput_rps']:.0f} with misses, {hits['throughput_rps']:.0f} with hits "
        f"({after - between} upstream calls for {count} hits)"
    )


# -- case 9: the REST gateway -----------------------------------------------------------------


async def _http_open_loop(
    url: str,
    token: str,
    params: Callable[[int], Mapping[str, Any]],
    *,
    rate: float,
    duration: float,
) -> list[float]:
    """As :func:`open_loop`, over HTTP through the gateway: latencies from the scheduled time."""
    import aiohttp

    from broker.gateway import query_pairs

    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def one(index: int, scheduled: float) -> None:
            async with http.get(url, params=query_pairs(RECIPIENT, params(index))) as response:
                await response.read()
                if response.status in (200, 404):
                    latencies.append(time.perf_counter() - scheduled)

        await paced(one, rate=rate, count=int(rate * duration), began=time.perf_counter())
    return latencies


async def case_gateway(bench: Bench, run: int) -> None:
    """The same requests at a few rates, from a plain SDK client over AMQP and over HTTP
    through ``particulier gateway`` (an editor asking for the demo agency), simulator at zero
    latency, one worker: what the gateway adds to p50 and p99."""
    gateway = await _gateway(bench)
    await bench.use_worker("production")  # sees the gateway's delegation at start
    route = f"http://127.0.0.1:{gateway.metrics_port}/v3/dss/quotient_familial/identite"
    figures: dict[str, Any] = {"rates": {}}
    duration = bench.config.gateway_seconds
    await bench.warm()
    await _http_open_loop(route, bench.gateway_token, bench.params, rate=50, duration=2)
    for rate in bench.config.gateway_rates:
        if run % 2:  # each path goes first in every other round
            http = await _through_gateway(bench, route, rate, duration)
            amqp = await _through_amqp(bench, rate, duration)
        else:
            amqp = await _through_amqp(bench, rate, duration)
            http = await _through_gateway(bench, route, rate, duration)
        over_amqp = percentiles(amqp.latencies)
        over_http = percentiles(http)
        figures["rates"][f"{rate:g}"] = {
            "amqp_ms": over_amqp,
            "http_ms": over_http,
            "added_p50_ms": round(over_http["p50"] - over_amqp["p50"], 2),
            "added_p99_ms": round(over_http["p99"] - over_amqp["p99"], 2),
        }
        bench.log(
            f"gateway run {run + 1} at {rate:.0f}/s: p50 {over_amqp['p50']:.1f} ms over AMQP, "
            f"{over_http['p50']:.1f} over HTTP; p99 {over_amqp['p99']:.1f} / {over_http['p99']:.1f}"
        )
    bench.record("gateway", figures)


# -- soak -----------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """The process's resident set now (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(pid)


SOAK_PEOPLE_FROM = 200_000
"""The soak asks for distinct people from there on, so that the reply cache does not answer
for the provider (other cases use the first ones)."""


LANES_PEOPLE_FROM = 300_000
"""The lane cases' probes ask for distinct people from there on (20,000 per run)."""


def _people_from(first: int) -> Callable[[int], Mapping[str, Any]]:
    return lambda index: request_params(1, offset=first + index)[0]


async def case_soak(bench: Bench, run: int) -> None:
    """One worker for ``soak_seconds`` (20 minutes) at half the path's throughput, open loop:
    its RSS at the start and at each window's end, error replies (5xx and no reply), p99."""
    rate = 0.5 * await reference_throughput(bench)
    worker = await bench.use_worker("production")
    cfg = bench.config
    windows: list[dict[str, Any]] = []
    rss_start = rss_mib(worker.pid)
    asked = SOAK_PEOPLE_FROM
    async with bench.client() as client:
        for window in range(max(1, round(cfg.soak_seconds / cfg.soak_window))):
            result = await open_loop(
                client, _people_from(asked), rate=rate, duration=cfg.soak_window
            )
            asked += result.sent
            errors = sum(n for s, n in result.statuses.items() if s.startswith("5"))
            windows.append(
                {
                    "window": window + 1,
                    "answered": result.answered,
                    "error_replies": errors + sum(result.failures.values()),
                    "p99_ms": percentiles(result.latencies).get("p99"),
                    "worker_rss_mib": rss_mib(worker.pid),
                }
            )
            bench.log(f"soak window {window + 1}: {windows[-1]}")
    figures = {
        "target_rate_rps": round(rate, 1),
        "seconds": cfg.soak_seconds,
        "worker_rss_start_mib": rss_start,
        "worker_rss_end_mib": windows[-1]["worker_rss_mib"],
        "error_replies": sum(w["error_replies"] for w in windows),
        "answered": sum(w["answered"] for w in windows),
        "p99_ms_per_window": [w["p99_ms"] for w in windows],
        "windows": windows,
    }
    bench.record("soak", figures)
    bench.log(
        f"soak: {figures['answered']} answered at {rate:.0f} req/s, "
        f"{figures['error_replies']} error replies, worker RSS {rss_start} -> "
        f"{figures['worker_rss_end_mib']} MiB"
    )


async def _through_amqp(bench: Bench, rate: float, duration: float) -> LoadResult:
    await bench.env.empty_cache()
    async with bench.client() as client:
        return await open_loop(client, bench.params, rate=rate, duration=duration)


async def _through_gateway(bench: Bench, route: str, rate: float, duration: float) -> list[float]:
    """The same load over HTTP, about other people than the AMQP run's."""
    await bench.env.empty_cache()
    offset = int(rate * duration)
    return await _http_open_loop(
        route,
        bench.gateway_token,
        lambda index: bench.params(offset + index),
        rate=rate,
        duration=duration,
    )


async def _gateway(bench: Bench) -> Service:
    """``particulier gateway`` on the benchmark's vhost, with a token of the demo agency."""
    if bench.gateway is not None and bench.gateway.alive():
        return bench.gateway
    env = bench.env
    user = "particulier_gateway"
    env._cli("editors", "create", "Passerelle REST", "--user", user, "--password", "bench",
             "--vhost", env.vhost)  # fmt: skip
    bench.gateway_token = env._cli("tokens", "issue", "Démo").strip().splitlines()[-1]
    port = free_port()
    amqp = env.amqp_url.replace("guest:guest@", f"{user}:bench@")
    bench.gateway = await env.spawn(
        "gateway",
        ["-m", "broker.tooling.cli", "gateway", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/healthz",
        extra_env={**env.worker_env, "PARTICULIER_GATEWAY_AMQP_URL": amqp},
    )
    bench.gateway.metrics_port = port
    await bench.stop_workers()
    return bench.gateway


def summarise_gateway(bench: Bench) -> dict[str, Any]:
    """The spread of each rate's p50 and p99: its keys depend on the configured rates."""
    keys = [
        f"rates.{rate}.{key}"
        for rate in (f"{r:g}" for r in bench.config.gateway_rates)
        for key in ("amqp_ms.p50", "http_ms.p50", "amqp_ms.p99", "http_ms.p99")
    ]
    return _summary(bench, "gateway", keys)


# -- case 6: profile, cost of signing and journal, lanes -------------------------------------


async def case_profile(bench: Bench, run: int) -> None:
    cfg = bench.config
    worker = await bench.use_worker("production")
    raw = bench.env.workdir / f"profile-{run}.raw"
    client_raw = bench.env.workdir / f"profile-client-{run}.raw"
    spy = str(Path(sys.executable).parent / "py-spy")
    stop = asyncio.Event()
    meter = bench.meter()
    progress = LoadResult()
    async with bench.client() as client:
        load = asyncio.create_task(
            closed_loop(
                client, bench.params, concurrency=cfg.concurrency, stop=stop, result=progress
            )
        )
        await asyncio.sleep(2.0)
        answered_before = progress.answered
        meter.start()
        spies = [
            await asyncio.create_subprocess_exec(
                spy,
                "record",
                "--format",
                "raw",
                "--rate",
                str(cfg.profile_rate),
                "--duration",
                str(int(cfg.profile_seconds)),
                "-p",
                str(pid),
                "-o",
                str(path),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            for pid, path in ((worker.pid, raw), (os.getpid(), client_raw))
        ]
        errors = [(await p.communicate())[1] for p in spies]
        process, err = spies[0], errors[0]
        meter.stop()
        answered = max(1, progress.answered - answered_before)
        stop.set()
        await load
    if process.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-1000:]}")
    attribution = profiling.attribute(profiling.parse_raw(raw.read_text(errors="replace")))
    worker_cpu = meter.result.get("worker", 0.0)
    per_request_ms = worker_cpu * 1000 / answered
    bench.profiles.append(raw)
    if client_raw.exists():
        bench.client_profiles.append(client_raw)
    bench.record(
        "profile",
        {
            "seconds": cfg.profile_seconds,
            "rate_hz": cfg.profile_rate,
            "throughput_rps": round(answered / meter.wall, 1) if meter.wall else None,
            "worker_cpu_s": worker_cpu,
            "worker_cpu_ms_per_request": round(per_request_ms, 4),
            "worker_cores_used": round(worker_cpu / meter.wall, 3) if meter.wall else None,
            "attribution": attribution.to_json(),
            "load_before": load_average(),
        },
    )
    bench.log(
        f"profile run {run + 1}: {attribution.samples} samples, worker "
        f"{per_request_ms:.3f} ms CPU/request"
    )


def summarise_profile(bench: Bench) -> dict[str, Any]:
    runs = bench.results.get("profile", {}).get("runs", [])
    total = profiling.Attribution()
    for raw in bench.profiles:
        total.add(profiling.attribute(profiling.parse_raw(raw.read_text(errors="replace"))))
    per_request = spread([r["worker_cpu_ms_per_request"] for r in runs], 4)
    shares_runs = {
        step: spread([r["attribution"]["shares"].get(step) for r in runs], 4)
        for step in profiling.STEPS
    }
    median_ms = per_request["median"] or 0.0
    steps = {
        step: {
            "share": round(total.by_step.get(step, 0) / total.samples, 4) if total.samples else 0,
            "share_runs": shares_runs[step],
            "cpu_us_per_request": round(
                (total.by_step.get(step, 0) / total.samples if total.samples else 0)
                * median_ms
                * 1000,
                1,
            ),
            "layers": [
                (layer, round(n / total.samples, 4))
                for layer, n in total.step_layers.get(step, Counter()).most_common(6)
            ],
        }
        for step in profiling.STEPS
    }
    client = profiling.Attribution(steps=profiling.CLIENT_STEPS)
    for raw in bench.client_profiles:
        client.add(
            profiling.attribute(profiling.parse_raw(raw.read_text(errors="replace")), client=True)
        )
    return {
        "client": {
            "samples": client.samples,
            "shares": client.shares(),
            "top_self": [
                (n, round(c / client.samples, 4)) for n, c in client.self_time.most_common(15)
            ]
            if client.samples
            else [],
        },
        "samples": total.samples,
        "worker_cpu_ms_per_request": per_request,
        "steps": steps,
        "top_self": [(n, round(c / total.samples, 4)) for n, c in total.self_time.most_common(25)]
        if total.samples
        else [],
        "top_inclusive_own_code": [
            (n, round(c / total.samples, 4)) for n, c in total.inclusive.most_common(25)
        ]
        if total.samples
        else [],
    }


COST_VARIANTS = ("full", "nosign", "nojournal")
SIGNING_BENCH = Path(__file__).resolve().parent / "bench_signing.py"


async def signing_microbench(number: int = 1000) -> dict[str, float]:
    """The µs figures of ``bench_signing.py`` (a colleague's; called, not copied)."""
    if not SIGNING_BENCH.exists():
        return {}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SIGNING_BENCH),
        "--number",
        str(number),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    figures: dict[str, float] = {}
    for line in out.decode(errors="replace").splitlines():
        name, _, value = line.rstrip().rpartition("  ")
        if value.endswith(" µs"):
            with contextlib.suppress(ValueError):
                figures[name.strip()] = float(value.removesuffix(" µs"))
    return figures


async def _measure_variant(
    bench: Bench, run: int, case: str, key: str, variant: str, *, verify: bool = True
) -> None:
    """One side of the paired rounds of the costs and loop cases: the same closed loop with
    the worker already started, recorded as ``case.variant`` with ``variant`` under ``key``."""
    figures = await bench.measure_path(bench.config.cost_requests, verify=verify)
    figures[key] = variant
    bench.record(f"{case}.{variant}", figures)
    bench.log(
        f"{case} run {run + 1} {variant}: {figures['throughput_rps']:.0f} req/s, worker "
        f"{figures['cpu_ms_per_request'].get('worker')} ms CPU/request"
    )


async def case_costs(bench: Bench, run: int) -> None:
    """The same closed loop against the benchmark worker with signing or the journal made a
    no-op; the client does not verify (unsigned replies would fail), in every variant."""
    if run == 0:
        bench.results["signing_microbench"] = await signing_microbench()
    for variant in COST_VARIANTS:
        await bench.use_worker(variant)
        async with bench.client(verify=False) as client:
            await closed_loop(
                client,
                bench.params,
                concurrency=bench.config.concurrency,
                count=min(bench.config.warmup, 500),
            )
        await _measure_variant(bench, run, "costs", "variant", variant, verify=False)
    full = bench.results["costs.full"]["runs"][-1]
    for variant, name in (("nosign", "signing"), ("nojournal", "journal")):
        other = bench.results[f"costs.{variant}"]["runs"][-1]
        other["throughput_cost"] = round(1 - full["throughput_rps"] / other["throughput_rps"], 4)
        full_cpu = full["cpu_ms_per_request"].get("worker") or 0
        other_cpu = other["cpu_ms_per_request"].get("worker") or 0
        other["worker_cpu_share"] = (
            round((full_cpu - other_cpu) / full_cpu, 4) if full_cpu else None
        )
        bench.log(
            f"  {name}: {other['throughput_cost'] * 100:.1f}% of throughput, "
            f"{(other['worker_cpu_share'] or 0) * 100:.1f}% of the worker's CPU"
        )


def _nested_median(bench: Bench, case: str, process: str) -> float | None:
    runs = bench.results.get(case, {}).get("runs", [])
    value = spread([r.get("cpu_ms_per_request", {}).get(process) for r in runs])["median"]
    return None if value is None else float(value)


def summarise_costs(bench: Bench) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for variant in COST_VARIANTS:
        summary[variant] = _summary(
            bench,
            f"costs.{variant}",
            (
                "throughput_rps",
                "cpu_ms_per_request.worker",
                "throughput_cost",
                "worker_cpu_share",
            ),
        )
    full = bench.median("costs.full", "throughput_rps")
    for variant, name, budget in (("nosign", "signing", 0.10), ("nojournal", "journal", 0.15)):
        other = bench.median(f"costs.{variant}", "throughput_rps")
        summary[name] = {
            "throughput_cost_runs": spread(bench.figures(f"costs.{variant}", "throughput_cost"), 4),
            "worker_cpu_share_runs": spread(
                bench.figures(f"costs.{variant}", "worker_cpu_share"), 4
            ),
            "throughput_cost_of_medians": round(1 - full / other, 4) if full and other else None,
            "budget": budget,
        }
    micro = bench.results.get("signing_microbench") or {}
    seal = micro.get("seal (sign + serialise for publishing)")
    dumps = micro.get("json.dumps for publishing (what seal saves)")
    worker_ms = _nested_median(bench, "costs.full", "worker")
    if seal is not None and dumps is not None and worker_ms:
        summary["signing"]["microbench_us"] = round(seal - dumps, 1)
        summary["signing"]["microbench_share_of_worker_cpu"] = round(
            (seal - dumps) / (worker_ms * 1000), 4
        )
    return summary


async def case_loop(bench: Bench, run: int) -> None:
    """The production worker's code on asyncio's event loop, then on uvloop's (benchmark
    worker entry point; uvloop must be installed), paired rounds."""
    for loop in ("asyncio", "uvloop"):
        kind = f"loop-{loop}"
        if bench.worker_kind != kind:
            await bench.stop_workers()
            bench.worker = await bench.env.start_worker(
                options=["--loop", loop], name=f"worker-{loop}"
            )
            bench.worker_kind = kind
        await bench.warm()
        await _measure_variant(bench, run, "loop", "loop", loop)
    base = bench.results["loop.asyncio"]["runs"][-1]
    other = bench.results["loop.uvloop"]["runs"][-1]
    other["throughput_gain"] = round(other["throughput_rps"] / base["throughput_rps"] - 1, 4)
    base_cpu = base["cpu_ms_per_request"].get("worker") or 0
    other_cpu = other["cpu_ms_per_request"].get("worker") or 0
    other["worker_cpu_saved"] = round(1 - other_cpu / base_cpu, 4) if base_cpu else None


def summarise_loop(bench: Bench) -> dict[str, Any]:
    summary = {
        loop: _summary(
            bench,
            f"loop.{loop}",
            (
                "throughput_rps",
                "cpu_ms_per_request.worker",
                "cpu_ms_per_request.client",
                "latency_ms.p50",
            ),
        )
        for loop in ("asyncio", "uvloop")
    }
    summary["gain"] = _summary(bench, "loop.uvloop", ("throughput_gain", "worker_cpu_saved"))
    return summary


async def case_lanes(bench: Bench, run: int) -> None:
    """Interactive p99 on an idle broker, then while a bulk flood saturates the worker."""
    await bench.use_worker("production")
    await _lanes(bench, run, "lanes")


async def case_lanes_slow(bench: Bench, run: int) -> None:
    """The same with a provider answering in 200 ms: the bulk lane's latency hiding must
    survive the floor (bulk calls waiting on the provider hold no place at the gate)."""
    await bench.use_worker("production")
    cfg = bench.config
    await bench.env.set_faults(
        PROVIDER, {"latency_ms": cfg.hiding_latency_ms, "jitter_ms": cfg.hiding_jitter_ms}
    )
    try:
        await _lanes(bench, run, "lanes_slow")
    finally:
        await bench.env.set_faults(PROVIDER, {"reset": True})


async def case_lanes_clerk(bench: Bench, run: int) -> None:
    """``make demo``'s situation: a clerk asking once every 0.2 s, a provider answering in
    50 ms, beside a nightly run's flood."""
    await bench.use_worker("production")
    cfg = bench.config
    latency = cfg.clerk_latency_ms
    await bench.env.set_faults(PROVIDER, {"latency_ms": latency, "jitter_ms": latency / 5})
    try:
        await _lanes(bench, run, "lanes_clerk", rate=cfg.clerk_rate)
    finally:
        await bench.env.set_faults(PROVIDER, {"reset": True})


async def case_lanes_split(bench: Bench, run: int) -> None:
    """The same with one worker process per lane (``particulier worker --lane``), the bulk
    one niced: the deployment that isolates the lanes."""
    await bench.use_split_lanes(bulk_nice=10)
    await _lanes(bench, run, "lanes_split")


async def _lanes(bench: Bench, run: int, case: str, rate: float | None = None) -> None:
    cfg = bench.config
    rate = cfg.probe_rate if rate is None else rate
    env = bench.env
    workers = [w for w in (bench.worker, *bench.extra_workers) if w is not None]

    async def probe(people: int) -> tuple[LoadResult, CpuMeter, float]:
        """The interactive probe, and the bulk requests answered meanwhile per second; each
        probe asks about people nobody asked about, so that the reply cache answers none."""
        meter = bench.meter()
        async with bench.client() as client:
            bulk_before = await env.answered(workers, "bulk")
            meter.start()
            result = await open_loop(
                client,
                _people_from(LANES_PEOPLE_FROM + people),
                rate=rate,
                duration=cfg.probe_seconds,
            )
            meter.stop()
            bulk_rate = (await env.answered(workers, "bulk") - bulk_before) / result.elapsed
        return result, meter, bulk_rate

    idle, idle_meter, _ = await probe(run * 20_000)
    assert bench.jwks_file is not None
    alone_seconds = 5.0
    flood_seconds = cfg.probe_seconds + alone_seconds + 10
    flood = await env.spawn(
        f"flood-{case}-{run}",
        [
            "-m",
            "benchmarks.load",
            "--url",
            env.amqp_url,
            "--jwks",
            str(bench.jwks_file),
            "--lane",
            "bulk",
            "--concurrency",
            str(cfg.flood_concurrency),
            "--duration",
            str(flood_seconds),
        ],
    )
    await asyncio.sleep(3.0)
    alone_before = await env.answered(workers, "bulk")
    await asyncio.sleep(alone_seconds)
    bulk_alone = (await env.answered(workers, "bulk") - alone_before) / alone_seconds
    depth_before = (await env.queue_state(BULK_QUEUE))[0]
    loaded, loaded_meter, bulk_beside = await probe(run * 20_000 + 10_000)
    depth_after = (await env.queue_state(BULK_QUEUE))[0]
    await asyncio.to_thread(flood.process.wait, flood_seconds + 60)
    await env.stop(flood)
    flood_summary: dict[str, Any] = {}
    for line in reversed(flood.log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            flood_summary = json.loads(line)
            break
    await env.wait_drained([BULK_QUEUE, INTERACTIVE_QUEUE])
    idle_p99 = percentiles(idle.latencies).get("p99")
    loaded_p99 = percentiles(loaded.latencies).get("p99")
    figures = {
        "probe_rate_rps": rate,
        "probe_seconds": cfg.probe_seconds,
        "idle_latency_ms": percentiles(idle.latencies),
        "loaded_latency_ms": percentiles(loaded.latencies),
        "p99_ratio": round(loaded_p99 / idle_p99, 3) if idle_p99 and loaded_p99 else None,
        "bulk_ready_during_probe": [depth_before, depth_after],
        "bulk_rps_alone": round(bulk_alone, 1),
        "bulk_rps_beside_interactive": round(bulk_beside, 1),
        "bulk_share_kept": round(bulk_beside / bulk_alone, 3) if bulk_alone else None,
        "bulk_flood": flood_summary,
        "worker_cores_used_idle": idle_meter.utilisation().get("worker"),
        "worker_cores_used_loaded": loaded_meter.utilisation().get("worker"),
        "bulk_worker_cores_used_loaded": loaded_meter.utilisation().get("bulk_worker"),
        "failures_loaded": dict(loaded.failures),
        "load_after": load_average(),
    }
    bench.record(case, figures)
    bench.log(
        f"{case} run {run + 1}: interactive p99 idle {idle_p99} ms, under bulk flood "
        f"{loaded_p99} ms (x{figures['p99_ratio']}); bulk {bulk_alone:.0f} req/s alone, "
        f"{bulk_beside:.0f} beside the probe; bulk queue ready {depth_before}->{depth_after}, "
        f"worker at {figures['worker_cores_used_loaded']} core"
    )


_LANES_KEYS = (
    "idle_latency_ms.p50",
    "idle_latency_ms.p99",
    "loaded_latency_ms.p50",
    "loaded_latency_ms.p99",
    "p99_ratio",
    "bulk_rps_alone",
    "bulk_rps_beside_interactive",
    "bulk_share_kept",
    "worker_cores_used_loaded",
    "bulk_worker_cores_used_loaded",
)
_LANES_GOAL = "interactive p99 under a bulk flood <= 2 x its p99 on an idle broker"


@dataclass(frozen=True)
class Case:
    """A case and its summary: most summaries are the spread of some figures and a goal or a
    note, so they are written here as data (``keys``, ``goal``, ``note``) rather than as one
    function each; ``more`` is for what a case's summary has besides."""

    name: str
    number: str
    title: str
    run: Callable[[Bench, int], Any]
    keys: tuple[str, ...] = ()
    """Figures of the runs (dotted paths) whose spread, min, median and max, is summarised."""
    more: Callable[[Bench], dict[str, Any]] | None = None
    """The rest of the summary, after the spread of ``keys``."""
    goal: str = ""
    note: str = ""
    rounds: int | None = None
    """How many times the case runs (default ``--runs``): the soak, once."""

    def summarise(self, bench: Bench) -> dict[str, Any]:
        summary = _summary(bench, self.name, self.keys)
        if self.more is not None:
            summary.update(self.more(bench))
        if self.goal:
            summary["goal"] = self.goal
        if self.note:
            summary["note"] = self.note
        return summary


CASES: dict[str, Case] = {
    c.name: c
    for c in (
        Case(
            "baseline",
            "1",
            "raw aio-pika request/reply",
            case_baseline,
            keys=(
                "throughput_rps",
                "latency_ms.p50",
                "latency_ms.p99",
                "cpu_ms_per_request.client",
                "cpu_ms_per_request.replier",
                "cpu_ms_per_request.rabbitmq",
            ),
        ),
        Case(
            "path",
            "2",
            "broker path, simulator at zero latency",
            case_path,
            keys=(*_PATH_KEYS, "ratio_to_baseline", "worker_cpu_bound_rps"),
            more=ratio_of_medians,
            goal="throughput >= 0.5 x baseline",
        ),
        Case(
            "latency",
            "3",
            "latency at half the maximum throughput",
            case_latency,
            keys=(
                "target_rate_rps",
                "throughput_rps",
                "latency_ms.p50",
                "latency_ms.p95",
                "latency_ms.p99",
                "latency_less_upstream_ms.p50",
                "latency_less_upstream_ms.p95",
                "latency_less_upstream_ms.p99",
                "upstream_ms.p50",
                "upstream_ms.p99",
                "transport_only_latency_ms.p50",
                "transport_only_latency_ms.p99",
                "cpu_cores_used.worker",
            ),
            goal="p50 <= 5 ms, p99 <= 25 ms (end to end less upstream)",
        ),
        Case(
            "idle",
            "3",
            "one request at a time, idle broker, against the raw transport",
            case_idle,
            keys=(
                "latency_ms.p50",
                "latency_ms.p99",
                "transport_latency_ms.p50",
                "transport_latency_ms.p99",
                "ratio_p50",
                *(f"steps_ms.{step}" for step in IDLE_STEPS),
            ),
            goal="path p50 <= 2 x the transport's p50",
        ),
        Case(
            "loop",
            "6",
            "the worker on uvloop instead of asyncio's loop",
            case_loop,
            more=summarise_loop,
        ),
        Case(
            "hiding",
            "4",
            "latency hiding, simulator at 200 +- 50 ms",
            case_hiding,
            keys=(
                "throughput_rps",
                "ratio_to_path",
                "paired_zero_latency_rps",
                "paired_ratio",
                "latency_ms.p50",
                "latency_ms.p99",
                "cpu_ms_per_request.worker",
                "cpu_cores_used.worker",
            ),
            more=hiding_settings,
            goal="throughput >= 0.9 x case 2, simulator at 200 +- 50 ms",
        ),
        Case(
            "batch",
            "5",
            "batch run",
            case_batch,
            keys=(
                "rows_per_s",
                "rows_per_s_active",
                "peak_rss_mib",
                "elapsed_s",
                "runner_cpu_ms_per_row",
                "latency_ms.p50",
                "latency_ms.p99",
            ),
            note=(
                "benchmarks/bench_batch.py; rows_per_s: wall time of `particulier batch run`, "
                "start-up and report included; rows_per_s_active: the runner's own figure"
            ),
        ),
        Case(
            "coalescing",
            "7",
            "every person twice: upstream calls",
            case_coalescing,
            keys=("rows", "upstream_calls", "calls_per_row"),
            note="every person twice in a row, bulk lane, window 256, upstream at 50 ms",
        ),
        Case(
            "cache",
            "8",
            "the reply cache: misses and hits",
            case_cache,
            keys=(
                *(
                    f"{name}.{key}"
                    for name in ("without", "misses", "hits")
                    for key in (
                        "throughput_rps",
                        "latency_ms.p50",
                        "latency_ms.p99",
                        "worker_cpu_ms",
                    )
                ),
                "upstream_calls_misses",
                "upstream_calls_hits",
            ),
            note="closed loop, 256 in flight, upstream at 50 ms, distinct people",
        ),
        Case(
            "gateway",
            "9",
            "the REST gateway's overhead",
            case_gateway,
            more=summarise_gateway,
            note="open loop, simulator at zero latency, one worker, client verifying proofs",
        ),
        Case(
            "soak",
            "10",
            "20 minutes at half the throughput, one worker",
            case_soak,
            keys=(
                "target_rate_rps",
                "answered",
                "error_replies",
                "worker_rss_start_mib",
                "worker_rss_end_mib",
            ),
            note="open loop, distinct people, simulator at zero latency; run only when named",
            rounds=1,
        ),
        Case(
            "profile",
            "6",
            "where the worker's CPU goes (py-spy)",
            case_profile,
            more=summarise_profile,
        ),
        Case(
            "costs",
            "6",
            "cost of signing and of the journal",
            case_costs,
            more=summarise_costs,
            note="client verification off in every variant; worker = benchmarks.bench_worker",
        ),
        Case(
            "lanes",
            "6",
            "interactive priority under a bulk flood",
            case_lanes,
            keys=_LANES_KEYS,
            goal=_LANES_GOAL,
        ),
        Case(
            "lanes_slow",
            "6",
            "the same, provider at 200 +- 50 ms",
            case_lanes_slow,
            keys=_LANES_KEYS,
            goal=_LANES_GOAL,
        ),
        Case(
            "lanes_clerk",
            "6",
            "the same as make demo: a clerk every 0.2 s, provider at 50 ms",
            case_lanes_clerk,
            keys=_LANES_KEYS,
            goal=f"{_LANES_GOAL}; bulk keeps >= 80% of its rate alone",
        ),
        Case(
            "lanes_split",
            "6",
            "the same, one worker process per lane, bulk niced",
            case_lanes_split,
            keys=_LANES_KEYS,
            goal=_LANES_GOAL,
        ),
    )
}
