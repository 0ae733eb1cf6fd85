"""Batch runs end to end: ``particulier batch`` as a process, RabbitMQ, the workers, the
simulators and the journal all real.

The runner runs as a subprocess (so that it can be killed), with the session's environment;
checkpoints go to a folder of the test's own. The session's worker runs on the test's event
loop, so every subprocess is awaited, never waited for.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from broker import registry, topology
from broker.sdk import Client, batch_queue_name
from broker.simulation import Population
from broker.tooling.demo import started

from ..conftest import Services, Simulator, free_port

DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
POPULATION = Population(1_000_000)
CLI = [sys.executable, "-m", "broker.tooling.cli"]

csv.field_size_limit(1 << 24)


NOT_FOUND = {("404", "10003"), ("404", "23003"), ("404", "35003")}
"""The family quotient's not-found for people no organism knows: MSA, CNAF, or both."""


@pytest.fixture
def batch_env(tmp_path: Path, services: Services, simulator: Simulator) -> dict[str, str]:
    return {**os.environ, "PARTICULIER_BATCH_DIR": str(tmp_path / "state")}


def cli_sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=170, check=False
    )


async def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a thread: the session's worker must keep running meanwhile."""
    return await asyncio.to_thread(cli_sync, env, *args)


def batch_run(source: Path, out: Path, *options: str) -> list[str]:
    """``batch run SOURCE`` against the family quotient, for the demo recipient."""
    return [
        "batch", "run", str(source), "--dataset", DATASET, "--recipient", SIRET,
        "--out", str(out), *options,
    ]  # fmt: skip


async def export(env: dict[str, str], path: Path, size: int, start: int = 0) -> None:
    args = ["population", "export", "--size", str(size), "--start", str(start), "--out", str(path)]
    done = await cli(env, *args)
    assert done.returncode == 0, done.stderr


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


async def status(env: dict[str, str], run_id: str) -> dict[str, Any]:
    done = await cli(env, "batch", "status", run_id, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def checkpointed(env: dict[str, str], run_id: str) -> int:
    """Rows the run's checkpoint holds (read-only, while the runner writes)."""
    path = Path(env["PARTICULIER_BATCH_DIR"]) / f"{run_id}.checkpoint"
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM rows").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


async def slowed_run(
    env: dict[str, str],
    simulator: Simulator,
    people: Path,
    size: int,
    start: int,
    prefix: str,
    latency_ms: int,
) -> tuple[str, int]:
    """Export ``size`` people from ``start`` to ``people`` and slow the CNAV simulator down by
    ``latency_ms``, so that a run can be interrupted half-way; returns a new run id (starting
    with ``prefix``) and the upstream calls so far."""
    await export(env, people, size, start)
    simulator.faults("cnav").latency_ms = latency_ms  # type: ignore[attr-defined]
    return f"{prefix}-{uuid.uuid4().hex[:6]}", simulator.received("cnav")


async def start_runner(
    env: dict[str, str], people: Path, out: Path, run_id: str, window: int, stderr: int
) -> asyncio.subprocess.Process:
    """``batch run`` of ``people`` as a process of its own, that the test may kill."""
    return await asyncio.create_subprocess_exec(
        *CLI, *batch_run(people, out, "--run-id", run_id, "--window", str(window)),
        env=env, stdout=subprocess.DEVNULL, stderr=stderr,
    )  # fmt: skip


async def until_checkpointed(
    env: dict[str, str], run_id: str, rows: int, runner: asyncio.subprocess.Process
) -> None:
    """Wait until the run's checkpoint holds ``rows`` rows; fail if the runner exits first or
    two minutes pass."""
    ends = time.monotonic() + 120
    while checkpointed(env, run_id) < rows:
        assert runner.returncode is None, "the runner exited early"
        assert time.monotonic() < ends, f"the run did not reach {rows} rows"
        await asyncio.sleep(0.05)


def assert_correct(rows: list[dict[str, str]], size: int, start: int = 0) -> None:
    """Every person exactly once, found ones with their household, others 404 with the code of
    the organism the DSS says lacks the file."""
    assert sorted(int(r["row"]) for r in rows) == list(range(1, size + 1))
    for record in rows:
        index = start + int(record["row"]) - 1
        person = POPULATION.person(index)
        assert record["id"] == f"P{index:07d}"
        if person.found:
            assert record["status"] == "200", record["code"]
            allocataires = json.loads(record["allocataires"])
            assert allocataires[0]["nom_naissance"] == person.nom_naissance
            assert int(record["quotient_familial.valeur"]) > 0
        else:
            assert (record["status"], record["code"]) in NOT_FOUND


async def queue_exists(amqp_url: str, name: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True


@asynccontextmanager
async def worker_process(env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """``particulier worker cnav`` as a process of its own, until the block ends."""
    port = free_port()
    args = ["worker", "cnav", "--processes", "1", "--metrics-port", str(port)]
    async with started(args, f"http://127.0.0.1:{port}/healthz", env=env, quiet=True) as worker:
        yield worker


# -- complete and correct ---------------------------------------------------------------------


async def test_ten_thousand_rows_complete_and_correct(
    tmp_path: Path, batch_env: dict[str, str], worker: object, services: Services
) -> None:
    people, out = tmp_path / "people.csv", tmp_path / "out.csv"
    await export(batch_env, people, 10_000)
    run_id = f"t10k-{uuid.uuid4().hex[:6]}"
    began = time.monotonic()
    # A second worker, in a process of its own, shares the load with the session's.
    async with worker_process(batch_env):
        done = await cli(batch_env, *batch_run(people, out, "--run-id", run_id))
    elapsed = time.monotonic() - began
    assert done.returncode == 0, done.stderr[-3000:]
    assert_correct(read_csv(out), 10_000)
    found = sum(POPULATION.person(i).found for i in range(10_000))
    state = await status(batch_env, run_id)
    assert state["state"] == "complete"
    assert state["answered"] == 10_000
    assert state["outcomes"]["ok"] == found
    assert state["outcomes"]["not_found"] == 10_000 - found
    assert state["latency_ms"]["p99"] is not None
    report = await asyncio.to_thread(Path(state["report"]).read_text, encoding="utf-8")
    assert "<svg" in report and "10,000 / 10,000" in report
    assert "latency p50" in done.stdout and "23003" in done.stdout
    # Complete with nothing outstanding: the run's queue is gone.
    assert not await queue_exists(services.amqp_url, batch_queue_name("guest", run_id))
    print(f"10,000 rows in {elapsed:.1f} s, runner start and report included")


# -- the runner killed, then resumed ----------------------------------------------------------


async def test_runner_killed_half_way_then_resumed_writes_every_row_once(
    tmp_path: Path, batch_env: dict[str, str], worker: object, simulator: Simulator
) -> None:
    size, start, window = 3_000, 20_000, 200
    people, out = tmp_path / "people.csv", tmp_path / "out.csv"
    run_id, upstream_before = await slowed_run(
        batch_env, simulator, people, size, start, "kill", 20
    )
    runner = await start_runner(batch_env, people, out, run_id, window, subprocess.DEVNULL)
    try:
        await until_checkpointed(batch_env, run_id, size // 2, runner)
        runner.send_signal(signal.SIGKILL)
    finally:
        if runner.returncode is None:
            runner.kill()
        await runner.wait()
    assert checkpointed(batch_env, run_id) < size, "the run ended before the kill"
    await asyncio.sleep(1.0)
    state = await status(batch_env, run_id)
    assert state["state"] == "interrupted (runner gone)"
    # Replies to the rows in flight were published while no runner was there: they wait.
    assert state["replies_waiting"] and state["replies_waiting"] > 0

    done = await cli(batch_env, "batch", "resume", run_id)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "replies were waiting in the queue" in done.stderr
    # The output held rows past the checkpoint when the runner died; none is there twice.
    assert_correct(read_csv(out), size, start)
    assert (await status(batch_env, run_id))["state"] == "complete"
    # Answered rows were not asked again: at most the window was.
    upstream_calls = simulator.received("cnav") - upstream_before
    assert size <= upstream_calls <= size + window
    again = await cli(batch_env, "batch", "resume", run_id)
    assert again.returncode == 0 and "complete" in again.stdout


# -- bad rows, CSV and JSONL in and out -------------------------------------------------------

BAD_CSV = (
    "id;nom;prenoms;sexeEtatCivil;anneeDateNaissance;moisDateNaissance;jourDateNaissance;"
    "codeCogInseeCommuneNaissance;codeCogInseePaysNaissance\n"
    "{good}\n"
    "empty-name;;JEAN;M;1980;1;1;75056;99100\n"
    "bad-sex;DURAND;JEAN;X;1980;1;1;75056;99100\n"
    "bad-commune;DURAND;JEAN;M;1980;1;1;ABCDE;99100\n"
    "bad-day;DURAND;JEAN;M;1980;2;31;75056;99100\n"
    "too-many;DURAND;JEAN;M;1980;1;1;75056;99100;extra\n"
    "short\n"
)
EXPECTED_BAD = {
    "empty-name": ("422", "00366", "nomNaissance"),
    "bad-sex": ("422", "00366", "sexeEtatCivil"),
    "bad-commune": ("422", "00366", "codeCogInseeCommuneNaissance"),
    "bad-day": ("422", "00366", "jourDateNaissance"),
    "too-many": ("0", "local.malformed_row", ""),
    "short": ("0", "local.missing_column", "nomNaissance"),
}


def _csv_line(index: int) -> str:
    p = POPULATION.person(index)
    born = p.date_naissance
    values = (
        f"good-{index}", p.nom_naissance, " ".join(p.prenoms), p.sexe, born.year, born.month,
        born.day, p.code_commune_naissance, "99100",
    )  # fmt: skip
    return ";".join(str(v) for v in values)


def _found(start: int) -> int:
    return next(i for i in range(start, start + 100) if POPULATION.person(i).found)


async def test_bad_rows_get_their_codes_and_the_run_goes_on_csv_to_jsonl(
    tmp_path: Path, batch_env: dict[str, str], worker: object
) -> None:
    good = _found(40_000)
    source, out = tmp_path / "bad.csv", tmp_path / "bad.jsonl"
    source.write_text(BAD_CSV.format(good=_csv_line(good)), encoding="utf-8")
    options = ("--map", "nom=nomNaissance", "--run-id", f"bad-{uuid.uuid4().hex[:4]}")
    done = await cli(batch_env, *batch_run(source, out, *options))
    assert done.returncode == 0, done.stderr[-3000:]
    records = {r["id"]: r for r in read_jsonl(out)}
    assert len(records) == 7
    ok = records[f"good-{good}"]
    assert ok["status"] == 200 and ok["errors"] == []
    assert ok["data"]["allocataires"][0]["nom_naissance"] == POPULATION.person(good).nom_naissance
    assert ok["request_id"].endswith(".1")  # <run id>.<row number>
    for row_id, (code_status, code, parameter) in EXPECTED_BAD.items():
        record = records[row_id]
        assert (str(record["status"]), record["code"]) == (code_status, code), row_id
        source_ = record["errors"][0].get("source") or {}
        assert (source_.get("parameter") or "") == parameter, row_id
    assert "local.missing_column" in done.stdout


async def test_jsonl_in_csv_out_with_bad_lines(
    tmp_path: Path, batch_env: dict[str, str], worker: object
) -> None:
    good = [_found(41_000), _found(41_100)]
    without_sex = dict(POPULATION.person(good[0]).params())
    del without_sex["sexeEtatCivil"]
    too_long = {
        "nomNaissance": "X" * 101, "sexeEtatCivil": "F", "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "75056",
    }  # fmt: skip
    lines = [json.dumps({"ref": f"g{i}", **POPULATION.person(i).params()}) for i in good]
    lines += [
        "{not json",
        json.dumps({"ref": "no-sex", **without_sex}),
        json.dumps({"ref": "too-long", **too_long}),
    ]
    source, out = tmp_path / "people.jsonl", tmp_path / "out.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = ("--id-column", "ref", "--run-id", f"jsonl-{uuid.uuid4().hex[:4]}")
    done = await cli(batch_env, *batch_run(source, out, *options))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["id"]: r for r in read_csv(out)}
    assert {rows[f"g{i}"]["status"] for i in good} == {"200"}
    assert rows[f"g{good[0]}"]["quotient_familial.valeur"].isdigit()
    assert rows["3"]["code"] == "local.malformed_row"  # no id: the row number stands in
    assert (rows["no-sex"]["status"], rows["no-sex"]["code"]) == ("422", "00366")
    assert rows["no-sex"]["parameter"] == "sexeEtatCivil"
    assert (rows["too-long"]["status"], rows["too-long"]["parameter"]) == ("422", "nomNaissance")


async def test_a_header_without_the_mapped_column_is_refused(
    tmp_path: Path, batch_env: dict[str, str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    done = await cli(batch_env, *batch_run(source, tmp_path / "o.csv", "--map", "nom=nomNaissance"))
    assert done.returncode == 2 and "lacks mapped columns: nom" in done.stderr


# -- a worker killed mid-run ------------------------------------------------------------------


@pytest.fixture
def own_vhost(services: Services) -> Iterator[str]:
    """A vhost where only the test's worker processes consume (not the session's worker)."""
    vhost = f"particulier-batch-{uuid.uuid4().hex[:8]}"
    ctl = ["rabbitmqctl", "-q"]
    subprocess.run([*ctl, "add_vhost", vhost], check=True, capture_output=True)
    permissions = [*ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]
    subprocess.run(permissions, check=True, capture_output=True)
    yield services.amqp_url.rsplit("/", 1)[0] + "/" + vhost
    subprocess.run([*ctl, "delete_vhost", vhost], check=False, capture_output=True)


async def test_worker_killed_mid_run_every_row_answered_once(
    tmp_path: Path, batch_env: dict[str, str], own_vhost: str, simulator: Simulator
) -> None:
    env = {**batch_env, "PARTICULIER_AMQP_URL": own_vhost}
    connection = await aio_pika.connect(own_vhost)
    async with connection:
        await topology.apply(await connection.channel(), registry.providers())
    size, start, window = 2_000, 60_000, 300
    people, out = tmp_path / "people.jsonl", tmp_path / "out.jsonl"
    run_id, upstream_before = await slowed_run(env, simulator, people, size, start, "wkill", 30)
    async with worker_process(env) as first:
        runner = await start_runner(env, people, out, run_id, window, subprocess.PIPE)
        await until_checkpointed(env, run_id, size // 3, runner)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert checkpointed(env, run_id) < size
    async with worker_process(env):
        try:
            _, stderr = await asyncio.wait_for(runner.communicate(), 150)
        finally:
            if runner.returncode is None:
                runner.kill()
                await runner.wait()
    assert runner.returncode == 0, stderr.decode()[-3000:]
    records = read_jsonl(out)
    assert sorted(r["row"] for r in records) == list(range(1, size + 1))
    statuses = Counter((r["status"], r["code"]) for r in records)
    assert set(statuses) <= {(200, None), *((int(s), c) for s, c in NOT_FOUND)}, statuses
    for record in records:
        person = POPULATION.person(start + record["row"] - 1)
        assert record["status"] == (200 if person.found else 404)
    # Only requests the killed worker held could be asked upstream twice.
    upstream_calls = simulator.received("cnav") - upstream_before
    assert size <= upstream_calls <= size + window


# -- the SDK, under a habilitation's bulk rate limit -------------------------------------------


@pytest.fixture
def limited_agency(services: Services, batch_env: dict[str, str]) -> Iterator[str]:
    """An agency of its own with a bulk rate of 25/s; yields its AMQP URL."""
    user, password = f"batch_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    name = f"Lot limité {user}"
    agency = ["agencies", "create", name, "--siret", SIRET, "--user", user, "--password", password]
    created = cli_sync(batch_env, *agency)
    assert created.returncode == 0, created.stderr
    grant = [
        "habilitations", "grant", name, "--legal-basis", "test", "--legal-reference", "test",
        "-d", DATASET, "--all-scopes", "--rate-bulk", "25",
    ]  # fmt: skip
    granted = cli_sync(batch_env, *grant)
    assert granted.returncode == 0, granted.stderr
    yield f"amqp://{user}:{password}@{services.amqp_url.split('@', 1)[1]}"
    subprocess.run(["rabbitmqctl", "-q", "delete_user", user], check=False, capture_output=True)


async def test_sdk_batch_honours_the_rate_limit_without_failing_rows(
    limited_agency: str, worker: object
) -> None:
    people = [POPULATION.person(i) for i in range(80_000, 80_250)]
    async with Client(limited_agency) as client:
        ends = time.monotonic() + 20  # workers pick up new habilitations within seconds
        while (await client.request(DATASET, people[0].params(), recipient=SIRET)).status == 403:
            assert time.monotonic() < ends
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.1)  # let the bucket refill
        began = time.monotonic()
        session = client.batch(DATASET, (p.params() for p in people), recipient=SIRET, window=64)
        results = [r async for r in session]
        elapsed = time.monotonic() - began
    assert sorted(r.row for r in results) == list(range(1, len(people) + 1))
    for result in results:
        person = people[result.row - 1]
        assert result.status == (200 if person.found else 404), result.code
        assert result.reply is not None and result.reply.body.proof
    assert session.stats.throttled > 0  # 429s came, and their rows were sent again later
    # 25/s after a burst of 25: the run cannot go faster than the habilitation allows.
    assert elapsed >= (len(people) - 25) / 25 * 0.9
    print(f"{len(people)} rows in {elapsed:.1f} s, {session.stats.throttled} 429s re-sent")
