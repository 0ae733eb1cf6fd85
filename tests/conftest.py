"""Session fixtures: a RabbitMQ vhost and a PostgreSQL database of the run's own, the
simulators over real HTTP, and a worker, all on this machine's services.

When no service answers on the configured ports but a container engine is reachable, the
services come from testcontainers instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _container_fallback(kind: str) -> str:
    """A throwaway service from testcontainers, when the machine has none running."""
    if kind == "rabbitmq":
        from testcontainers.rabbitmq import RabbitMqContainer

        rabbit = RabbitMqContainer("rabbitmq:3.13").start()
        return (
            f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/"
        )
    from testcontainers.postgres import PostgresContainer

    pg = PostgresContainer("postgres:16", username="postgres", password="postgres").start()
    return (
        f"postgresql://postgres:postgres@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}"
    )


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@dataclass(frozen=True)
class Services:
    amqp_url: str
    vhost: str
    admin_url: str
    database_url: str
    database: str


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The run's own vhost and database; environment set for in-process code and children."""
    vhost = f"particulier-test-{RUN_ID}"
    database = f"particulier_test_{RUN_ID}"
    if _port_open(5672) and shutil.which("rabbitmqctl"):
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    else:
        amqp_url, vhost = _container_fallback("rabbitmq"), "/"
    server = (
        "postgresql://postgres@127.0.0.1:5432" if _port_open(5432) else _container_fallback("pg")
    )
    admin_url = f"{server}/{database}"
    app_url = str(URL(server).with_user("particulier_app").with_password(None) / database)
    keys = tmp_path_factory.mktemp("keys")
    env = {
        "PARTICULIER_AMQP_URL": amqp_url,
        "PARTICULIER_DATABASE_URL": app_url,
        "PARTICULIER_DATABASE_ADMIN_URL": admin_url,
        "PARTICULIER_SIGNING_KEYS_DIR": str(keys),
        "PARTICULIER_PSEUDONYM_KEY": "test-pseudonym-key-" + RUN_ID,
        "PARTICULIER_JOURNAL_KEY": "test-journal-key-" + RUN_ID,
    }
    os.environ.update(env)
    from broker.config import settings

    settings.cache_clear()
    cli = [sys.executable, "-m", "broker.tooling.cli"]
    subprocess.run([*cli, "keys", "generate", "--dir", str(keys)], check=True, capture_output=True)
    france_connect_key = tmp_path_factory.mktemp("france_connect") / "key.json"
    subprocess.run(
        [*cli, "keys", "france-connect", "--out", str(france_connect_key)],
        check=True,
        capture_output=True,
    )
    os.environ["PARTICULIER_FRANCE_CONNECT_KEY"] = str(france_connect_key)
    settings.cache_clear()
    jwks = tmp_path_factory.mktemp("jwks") / "jwks.json"
    subprocess.run([*cli, "keys", "jwks", "--dir", str(keys), "--out", str(jwks)], check=True)
    os.environ["PARTICULIER_JWKS"] = str(jwks)
    subprocess.run([*cli, "db", "migrate"], check=True, capture_output=True)
    subprocess.run([*cli, "habilitations", "seed-demo"], check=True, capture_output=True)
    subprocess.run([*cli, "topology", "apply"], check=True, capture_output=True)
    yield Services(amqp_url, vhost, admin_url, app_url, database)
    if vhost != "/":
        _rabbitmqctl("delete_vhost", vhost)
    subprocess.run(
        ["psql", server + "/postgres", "-qc", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'],
        check=False,
        capture_output=True,
    )


@dataclass
class Simulator:
    url: str
    ctx: object

    def faults(self, provider: str) -> object:
        return self.ctx.faults_of(provider)  # type: ignore[attr-defined]

    def received(self, provider: str) -> int:
        return int(self.ctx.received.get(provider, 0))  # type: ignore[attr-defined]

    def reset(self) -> None:
        from broker.simulation import Faults

        for name in list(self.ctx.faults):  # type: ignore[attr-defined]
            self.ctx.faults[name] = Faults()  # type: ignore[attr-defined]


def extra_case_dirs() -> list[Path]:
    """More case folders to run, from ``PARTICULIER_CASES`` (``:``-separated)."""
    raw = os.environ.get("PARTICULIER_CASES", "")
    return [Path(p) for p in raw.split(":") if p]


@pytest_asyncio.fixture(scope="session")
async def simulator(services: Services) -> AsyncIterator[Simulator]:
    from broker.config import settings
    from broker.simulation import Population, context, serve_simulators

    ctx = context(Population(1_000_000), cases=extra_case_dirs())
    port = free_port()
    runner = await serve_simulators(ctx, port=port)
    url = f"http://127.0.0.1:{port}"
    os.environ["PARTICULIER_SIMULATOR_URL"] = url
    settings.cache_clear()
    yield Simulator(url, ctx)
    await runner.cleanup()


@pytest_asyncio.fixture(scope="session")
async def worker(services: Services, simulator: Simulator) -> AsyncIterator[object]:
    """A worker for every provider, in the test process (real AMQP, HTTP and SQL)."""
    from broker import registry
    from broker.runtime import serving

    async with serving(list(registry.providers().values())) as instance:
        await instance.start()
        yield instance


@pytest_asyncio.fixture
async def client(worker: object) -> AsyncIterator[object]:
    from broker.sdk import Client

    async with Client() as connected:
        yield connected


@pytest.fixture(autouse=True)
def _reset_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "simulator" in request.fixturenames:
        request.getfixturevalue("simulator").reset()


@pytest.fixture(autouse=True)
def _empty_reply_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty reply cache: a person another test asked about is not
    answered from it (a test of faults would otherwise never reach the simulator)."""
    yield
    if "services" in request.fixturenames:
        services = request.getfixturevalue("services")
        subprocess.run(
            ["psql", services.admin_url, "-qc", "TRUNCATE reply_cache"],
            check=False,
            capture_output=True,
        )


TASKS_DUMPED_BEFORE_TIMEOUT = 20.0
"""Seconds before pytest-timeout ends a test that every asyncio task's stack is printed."""


@pytest_asyncio.fixture(autouse=True)
async def _tasks_dumped_before_the_timeout(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """A hang is an await that never ends; the timeout's own traceback shows only the event
    loop waiting, so shortly before it every task's stack is printed (in the test's stderr)."""
    if not asyncio.iscoroutinefunction(getattr(request, "function", None)):
        yield
        return
    marker = request.node.get_closest_marker("timeout")
    timeout = float(
        marker.args[0]
        if marker is not None and marker.args
        else request.config.getoption("timeout", None) or request.config.getini("timeout")
    )
    handle = asyncio.get_running_loop().call_later(
        max(timeout - TASKS_DUMPED_BEFORE_TIMEOUT, 1.0), _print_tasks, request.node.nodeid
    )
    yield
    handle.cancel()


def _print_tasks(test: str) -> None:
    tasks = asyncio.all_tasks()
    print(f"{test} is about to time out; its {len(tasks)} asyncio tasks:", file=sys.stderr)
    for task in tasks:
        task.print_stack(file=sys.stderr)


def pytest_terminal_summary(terminalreporter: object) -> None:
    from tests.conformance.test_conformance import SKIPPED

    if SKIPPED:
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"conformance: {len(SKIPPED)} cases skipped as API Particulier's own access checks "
            "(403 00100 / 429 00429)"
        )


GATEWAY_USER = "particulier_gateway"


@dataclass(frozen=True)
class RunningGateway:
    url: str
    token: str
    """A token of the demo agency (Démo, every scope)."""


def particulier(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker.tooling.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest_asyncio.fixture(scope="session")
async def gateway(services: Services, worker: object) -> AsyncIterator[RunningGateway]:
    from broker.gateway import GatewaySettings, running

    editor = GatewaySettings().gateway_editor
    made = particulier(
        "editors", "create", editor, "--user", GATEWAY_USER, "--password", "secret",
        "--vhost", services.vhost,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    issued = particulier("tokens", "issue", "Démo", "--label", "tests")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    await asyncio.sleep(2.5)  # the workers see the new delegation within 2 s
    host = services.amqp_url.split("@", 1)[1]
    port = free_port()
    async with running("127.0.0.1", port, amqp_url=f"amqp://{GATEWAY_USER}:secret@{host}"):
        yield RunningGateway(f"http://127.0.0.1:{port}", token)
