"""The benchmark's own world: a RabbitMQ vhost, a PostgreSQL database, signing keys, and the
simulator and workers as separate processes, as production runs them. Everything is removed
at the end, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "BenchEnv",
    "CpuMeter",
    "Service",
    "cpu_seconds",
    "free_port",
    "launch",
    "load_average",
    "machine_info",
]

ROOT = Path(__file__).resolve().parent.parent
AMQP_SERVER = "amqp://guest:guest@127.0.0.1:5672"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
APP_ROLE = "particulier_app"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (``None`` once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _pids_where(predicate: Any) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if predicate(entry):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def rabbitmq_pids() -> list[int]:
    return _pids_where(lambda p: (p / "comm").read_text().strip() == "beam.smp")


def with_children(pid: int) -> list[int]:
    """``pid`` and its children (``particulier worker --processes N``'s workers)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return [pid]
    children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    return [pid, *children]


def postgres_pids(database: str) -> list[int]:
    """The backends serving ``database`` (their titles name it)."""

    def serves(p: Path) -> bool:
        if (p / "comm").read_text().strip() != "postgres":
            return False
        return database in (p / "cmdline").read_bytes().decode(errors="replace")

    return _pids_where(serves)


class CpuMeter:
    """CPU seconds used by named groups of processes between :meth:`start` and :meth:`stop`.

    Groups are re-listed at the end (PostgreSQL backends come and go): a process that appeared
    in between counts from zero, one that vanished counts up to its last reading.
    """

    def __init__(self, groups: Mapping[str, Any]) -> None:
        self._groups = dict(groups)  # name -> callable returning pids
        self._start: dict[str, dict[int, float]] = {}
        self._began = 0.0
        self.result: dict[str, float] = {}
        self.wall = 0.0

    def _read(self) -> dict[str, dict[int, float]]:
        readings: dict[str, dict[int, float]] = {}
        for name, pids in self._groups.items():
            values = {}
            for pid in pids():
                value = cpu_seconds(pid)
                if value is not None:
                    values[pid] = value
            readings[name] = values
        return readings

    def start(self) -> None:
        self._start = self._read()
        self._began = time.perf_counter()

    def stop(self) -> dict[str, float]:
        end = self._read()
        self.wall = time.perf_counter() - self._began
        self.result = {}
        for name, values in end.items():
            before = self._start.get(name, {})
            self.result[name] = round(sum(v - before.get(pid, 0.0) for pid, v in values.items()), 3)
        return self.result

    def per_request_ms(self, count: int) -> dict[str, float]:
        return {k: round(v * 1000 / count, 4) for k, v in self.result.items()} if count else {}

    def utilisation(self) -> dict[str, float]:
        """Share of one core used by each group over the measured interval."""
        if not self.wall:
            return {}
        return {k: round(v / self.wall, 3) for k, v in self.result.items()}


def _command(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def machine_info() -> dict[str, Any]:
    """Cores, memory, versions, load: what a reader needs to compare figures."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    versions: dict[str, str] = {}
    for package in ("aio-pika", "aiormq", "asyncpg", "httpx", "aiohttp", "pydantic", "pynacl"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    pg = _command("psql", f"{PG_SERVER}/postgres", "-tAc", "SHOW server_version")
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rabbitmq": _command("rabbitmqctl", "-q", "version") or "unknown",
        "postgresql": pg or "unknown",
        "packages": versions,
        "load_average_at_start": load_average(),
    }


def rabbitmqctl(*args: str, wait: float = 300.0) -> None:
    """Run ``rabbitmqctl ARGS``; while the node's app is stopped (other people's broker
    restart tests share this RabbitMQ), wait for it up to ``wait`` seconds."""
    ends = time.monotonic() + wait
    while True:
        done = subprocess.run(
            ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode == 0:
            return
        stopped = "not running" in done.stderr or "start_app" in done.stderr
        if not stopped or time.monotonic() > ends:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()[:500]}")
        time.sleep(2)


def launch(args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``args`` in the project's root, output to ``log``, in a session of its own (a
    Ctrl-C of the benchmark reaches it only through :meth:`Service.stop`)."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            list(args),
            env=dict(env),
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


_TIMED = {
    "particulier_step_seconds": "step",
    "particulier_upstream_seconds": "upstream",
    "particulier_processing_seconds": "processing",
}
"""The worker's histograms :meth:`BenchEnv.step_seconds` reads, and what each times."""


@dataclass
class Service:
    """A child process (simulator, worker, replier) with its pid and log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    metrics_port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    async def stop(self, grace: float = 30.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class BenchEnv:
    """Owns the vhost, the database, the key directory and every child process."""

    label: str = field(default_factory=lambda: time.strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:4])
    keep_logs: bool = False
    worker_env: Mapping[str, str] = field(default_factory=dict)
    """Settings given to every worker (``--worker-env``)."""
    worker_processes: int = 1
    """``particulier worker --processes`` of the production worker (``--worker-processes``)."""
    workdir: Path = field(init=False)
    vhost: str = field(init=False)
    database: str = field(init=False)
    env: dict[str, str] = field(init=False)
    services: list[Service] = field(default_factory=list)
    simulator_url: str = ""
    _created_vhost: bool = False
    _created_db: bool = False

    def __post_init__(self) -> None:
        self.vhost = f"particulier-bench-{self.label}"
        self.database = f"particulier_bench_{self.label}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"particulier-bench-{self.label}-"))

    # -- URLs ------------------------------------------------------------------------------

    @property
    def amqp_url(self) -> str:
        return f"{AMQP_SERVER}/{self.vhost}"

    @property
    def admin_url(self) -> str:
        return f"{PG_SERVER}/{self.database}"

    @property
    def app_url(self) -> str:
        return f"postgresql://{APP_ROLE}@127.0.0.1:5432/{self.database}"

    @property
    def keys_dir(self) -> Path:
        return self.workdir / "keys"

    # -- set-up and tear-down --------------------------------------------------------------

    def _cli(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "broker.tooling.cli", *args],
            capture_output=True,
            text=True,
            env=dict(env or self.env),
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"particulier {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    async def __aenter__(self) -> BenchEnv:
        try:
            await asyncio.to_thread(self._setup)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _setup(self) -> None:
        rabbitmqctl("add_vhost", self.vhost)
        self._created_vhost = True
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        base = {k: v for k, v in os.environ.items() if not k.startswith("PARTICULIER_")}
        self.simulator_url = f"http://127.0.0.1:{free_port()}"
        self.env = {
            **base,
            "PARTICULIER_AMQP_URL": self.amqp_url,
            "PARTICULIER_DATABASE_URL": self.app_url,
            "PARTICULIER_DATABASE_ADMIN_URL": self.admin_url,
            "PARTICULIER_SIGNING_KEYS_DIR": str(self.keys_dir),
            "PARTICULIER_PSEUDONYM_KEY": secrets.token_hex(32),
            "PARTICULIER_JOURNAL_KEY": secrets.token_hex(32),
            "PARTICULIER_SIMULATOR_URL": self.simulator_url,
            "PARTICULIER_BATCH_DIR": str(self.workdir / "batch"),
            "PYTHONPATH": str(ROOT),
        }
        self._cli("keys", "generate", "--dir", str(self.keys_dir))
        self._created_db = True
        self._cli("db", "migrate")
        self._cli("habilitations", "seed-demo")
        self._cli("topology", "apply")

    async def close(self) -> None:
        for service in reversed(self.services):
            with contextlib.suppress(Exception):
                await service.stop()
        self.services.clear()
        if self._created_vhost:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(rabbitmqctl, "delete_vhost", self.vhost)
            self._created_vhost = False
        if self._created_db:
            await asyncio.to_thread(
                subprocess.run,
                [
                    "psql",
                    f"{PG_SERVER}/postgres",
                    "-qc",
                    f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)',
                ],
                capture_output=True,
                timeout=120,
                check=False,
            )
            self._created_db = False
        if not self.keep_logs:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- processes -------------------------------------------------------------------------

    async def spawn(
        self,
        name: str,
        args: Sequence[str],
        *,
        ready_url: str | None = None,
        ready: Any = None,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        nice: int = 0,
    ) -> Service:
        """Start ``python ARGS`` (at niceness ``nice``); wait until ``ready_url`` answers 200
        or ``ready()`` is true."""
        log = self.workdir / f"{name}.log"
        command = [sys.executable, *args]
        if nice:
            command = ["nice", "-n", str(nice), *command]
        process = launch(command, {**self.env, **(extra_env or {})}, log)
        service = Service(name, process, log)
        self.services.append(service)
        ends = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                if not service.alive():
                    raise RuntimeError(f"{name} exited:\n{service.tail()}")
                ok = False
                if ready_url is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        ok = (await http.get(ready_url, timeout=1)).status_code == 200
                elif ready is not None:
                    ok = bool(await ready())
                else:
                    ok = True
                if ok:
                    return service
                if time.monotonic() > ends:
                    raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{service.tail()}")
                await asyncio.sleep(0.2)

    async def stop(self, service: Service) -> None:
        await service.stop()
        if service in self.services:
            self.services.remove(service)

    async def start_simulator(self) -> Service:
        port = self.simulator_url.rsplit(":", 1)[1]
        return await self.spawn(
            "simulator",
            ["-m", "broker.tooling.cli", "simulator", "--port", port],
            ready_url=f"{self.simulator_url}/_admin/health",
        )

    async def start_worker(
        self,
        *,
        variant: str = "production",
        extra_env: Mapping[str, str] | None = None,
        provider: str = "cnav",
        options: Sequence[str] = (),
        name: str | None = None,
        lane: str | None = None,
        nice: int = 0,
    ) -> Service:
        """The production worker (``particulier worker``, of one ``lane`` or both) or a
        benchmark-only variant (``options``: more arguments of ``benchmarks.bench_worker``)."""
        port = free_port()
        if variant == "production" and not options:
            args = ["-m", "broker.tooling.cli", "worker", provider]
            args += ["--processes", str(self.worker_processes)]
            args += ["--metrics-port", str(port)]
            if lane is not None:
                args += ["--lane", lane]
        else:
            args = [
                "-m",
                "benchmarks.bench_worker",
                "--variant",
                "full" if variant == "production" else variant,
                "--metrics-port",
                str(port),
                *options,
                provider,
            ]
        service = await self.spawn(
            name or f"worker-{variant}",
            args,
            ready_url=f"http://127.0.0.1:{port}/healthz",
            extra_env={**self.worker_env, **(extra_env or {})},
            nice=nice,
        )
        service.metrics_port = port
        return service

    async def answered(self, workers: Sequence[Service], lane: str) -> float:
        """Requests of ``lane`` the ``workers`` have answered so far (their ``/metrics``)."""
        total = 0.0
        async with httpx.AsyncClient() as http:
            for worker in workers:
                text = (await http.get(f"http://127.0.0.1:{worker.metrics_port}/metrics")).text
                for family in text_string_to_metric_families(text):
                    if family.name == "particulier_requests":
                        total += sum(
                            sample.value
                            for sample in family.samples
                            if sample.name.endswith("_total") and sample.labels["lane"] == lane
                        )
        return total

    async def step_seconds(self, worker: Service) -> dict[str, tuple[float, float]]:
        """``(seconds, count)`` so far of each step of the worker's path
        (``particulier_step_seconds``), of its upstream exchanges (``upstream``) and of its
        requests from delivery to ack (``processing``)."""
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{worker.metrics_port}/metrics")).text
        totals: dict[str, list[float]] = {}
        for family in text_string_to_metric_families(text):
            kind = _TIMED.get(family.name)
            if kind is None:
                continue
            for sample in family.samples:
                step = sample.labels.get("step", kind)
                kept = totals.setdefault(step, [0.0, 0.0])
                if sample.name.endswith("_sum"):
                    kept[0] += sample.value
                elif sample.name.endswith("_count"):
                    kept[1] += sample.value
        return {step: (seconds, count) for step, (seconds, count) in totals.items()}

    async def set_faults(self, provider: str, values: Mapping[str, Any]) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.put(
                f"{self.simulator_url}/_admin/faults",
                params={"provider": provider},
                json=dict(values),
                timeout=10,
            )
            response.raise_for_status()

    # -- looking at the broker and the journal ---------------------------------------------

    async def queue_state(self, name: str) -> tuple[int, int]:
        """(messages ready, consumers) of queue ``name``."""
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(name, passive=True)
            result = queue.declaration_result
            return int(result.message_count or 0), int(result.consumer_count or 0)

    async def wait_drained(self, names: Sequence[str], timeout: float = 300.0) -> bool:
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            depths = [await self.queue_state(n) for n in names]
            if all(ready == 0 for ready, _ in depths):
                return True
            await asyncio.sleep(0.5)
        return False

    async def empty_cache(self) -> None:
        """Drop the reply cache before each measured run: the runs ask the same synthetic
        people again, which a nightly run never does, so a kept answer would measure the cache
        instead of the path (case ``cache`` measures it)."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute("TRUNCATE reply_cache")
        finally:
            await conn.close()

    async def upstream_ms(self, message_ids: Sequence[str]) -> dict[str, float]:
        """The journal's ``upstream_latency_ms`` of each request, by message id."""
        if not message_ids:
            return {}
        conn = await asyncpg.connect(self.admin_url)
        try:
            rows = await conn.fetch(
                "SELECT message_id, upstream_latency_ms FROM journal "
                "WHERE message_id = ANY($1::text[]) AND NOT cached",
                list(message_ids),
            )
        finally:
            await conn.close()
        return {
            r["message_id"]: float(r["upstream_latency_ms"])
            for r in rows
            if r["upstream_latency_ms"] is not None
        }

    def jwks(self) -> dict[str, Any]:
        out = self._cli("keys", "jwks", "--dir", str(self.keys_dir))
        return dict(json.loads(out))


@contextlib.asynccontextmanager
async def measured(meter: CpuMeter) -> AsyncIterator[CpuMeter]:
    meter.start()
    try:
        yield meter
    finally:
        meter.stop()
