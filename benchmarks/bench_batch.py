"""``particulier batch run`` on 100,000 synthetic households: rows/s and the runner's peak RSS.

    .venv/bin/python -m benchmarks.bench_batch                    # 100,000 rows, one worker
    .venv/bin/python -m benchmarks.bench_batch --rows 20000 --workers 2 --window 512
    .venv/bin/python -m benchmarks.bench_batch --offline --rows 1000000

The world is the benchmark's own (:class:`benchmarks.environment.BenchEnv`: a vhost, a
database, keys, the simulator and the workers as processes), removed at the end. The runner's
peak RSS is ``wait4``'s ``ru_maxrss`` for that one process.

``--offline`` measures what grows with the input without a broker: the input streamed and
mapped, one result per row written to the output and committed to the checkpoint with the
runner's grouping, the answered-rows set and the latency histogram; so that the 200 MB bound
for 10^6 rows can be checked in a minute rather than a night. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DATASET = "cnav.quotient_familial"
RECIPIENT = "13002526500013"
RESULTS = Path(__file__).resolve().parent / "results"


def _wait_rusage(process: subprocess.Popen[bytes]) -> tuple[int, float, float]:
    """Exit code, peak RSS (MiB) and CPU seconds of ``process`` alone."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


async def online(rows: int, window: int, workers: int, latency_ms: float) -> dict[str, Any]:
    from benchmarks.environment import BenchEnv, launch, load_average

    async with BenchEnv() as env:
        sim = env.simulator_url.rsplit(":", 1)[1]
        await env.spawn(
            "simulator",
            [
                "-m",
                "broker.tooling.cli",
                "simulator",
                "--port",
                sim,
                "--latency-ms",
                str(latency_ms),
            ],
            ready_url=f"{env.simulator_url}/_admin/health",
        )
        for n in range(workers):
            await env.start_worker(name=f"worker-{n}")
        people = env.workdir / "people.csv"
        env._cli("population", "export", "--size", str(rows), "--out", str(people))
        out = env.workdir / "out.csv"
        args = [
            sys.executable, "-m", "broker.tooling.cli", "batch", "run", str(people),
            "--dataset", DATASET, "--recipient", RECIPIENT, "--out", str(out),
            "--run-id", f"bench-{env.label}", "--window", str(window),
        ]  # fmt: skip
        load_before = load_average()
        began = time.perf_counter()
        process = launch(args, env.env, env.workdir / "runner.log")
        code, peak_mib, cpu = await asyncio.to_thread(_wait_rusage, process)
        elapsed = time.perf_counter() - began
        if code != 0:
            tail = (env.workdir / "runner.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"batch run exited with {code}:\n{tail}")
        status = json.loads(env._cli("batch", "status", f"bench-{env.label}", "--json"))
        return {
            "mode": "online",
            "rows": rows,
            "window": window,
            "workers": workers,
            "simulated_latency_ms": latency_ms,
            "elapsed_s": round(elapsed, 1),
            "rows_per_s": round(rows / elapsed, 1),
            "rows_per_s_active": status["throughput_rows_per_s"],
            "runner_peak_rss_mib": round(peak_mib, 1),
            "runner_cpu_ms_per_row": round(cpu * 1000 / rows, 3),
            "latency_ms": status["latency_ms"],
            "outcomes": {k: v for k, v in status["outcomes"].items() if v},
            "load_before": load_before,
            "load_after": load_average(),
        }


def _offline_child(rows: int, workdir: Path) -> None:
    """The runner's file side for ``rows`` rows, in this process (measured by the parent)."""
    import random

    from broker import registry
    from broker.sdk import BatchResult, InputFormat, RowMapping, param_kinds, read_rows
    from broker.tooling.batch.checkpoint import Checkpoint, RunSpec
    from broker.tooling.batch.outputs import data_columns, open_writer
    from broker.tooling.batch.report import build_report, render_html

    declared = registry.dataset(DATASET)
    assert declared is not None
    people = workdir / "people.csv"
    subprocess.run(
        [sys.executable, "-m", "broker.tooling.cli", "population", "export", "--size", str(rows),
         "--out", str(people)],
        check=True, capture_output=True,
    )  # fmt: skip
    out = workdir / "out.csv"
    writer, offset = open_writer(out, "csv", paths=data_columns(declared.data))
    spec = RunSpec(
        run_id="offline", dataset=DATASET, recipient=RECIPIENT, input=str(people),
        input_format="csv", output=str(out), output_format="csv", report="", total=rows,
        input_sha256="", requester="guest", queue="",
    )  # fmt: skip
    checkpoint = Checkpoint.create(workdir / "offline.checkpoint", spec, offset)
    checkpoint.begin_session()
    answered = checkpoint.answered()
    mapping = RowMapping(kinds=param_kinds(declared.params))
    data = {
        "allocataires": [{"nom_naissance": "X", "prenoms": "Y", "sexe": "F"}],
        "enfants": [],
        "adresse": {"code_postal_ville": "75011 PARIS", "pays": "FRANCE"},
        "quotient_familial": {"fournisseur": "CNAF", "valeur": 1200},
    }
    buffer: list[BatchResult] = []
    rng = random.Random(1)
    for row in read_rows(people, InputFormat.CSV, mapping, skip=answered.__contains__):
        result = BatchResult(row.number, row.id, 200, None, data, [], latency=rng.random())
        writer.write(result)
        answered.add(row.number)
        buffer.append(result)
        if len(buffer) >= 256:
            checkpoint.record(
                ((r.row, r.status, r.code, r.latency, 1) for r in buffer), writer.flush()
            )
            buffer.clear()
    checkpoint.record(((r.row, r.status, r.code, r.latency, 1) for r in buffer), writer.flush())
    writer.close()
    checkpoint.end_session("complete")
    report = build_report(checkpoint)
    (workdir / "report.html").write_text(render_html(report), encoding="utf-8")
    assert report.answered == rows, report.answered


def offline(rows: int) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_batch", "--offline-child", str(rows), tmp]
        )
        code, peak_mib, cpu = _wait_rusage(process)
        elapsed = time.perf_counter() - began
        if code != 0:
            raise SystemExit(f"offline run exited with {code}")
    return {
        "mode": "offline",
        "rows": rows,
        "elapsed_s": round(elapsed, 1),
        "rows_per_s": round(rows / elapsed, 1),
        "peak_rss_mib": round(peak_mib, 1),
        "cpu_us_per_row": round(cpu * 1e6 / rows, 1),
        "note": "export, read, map, write, checkpoint and report of every row; no broker",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--workers", type=int, default=1, help="cnav worker processes")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated upstream")
    parser.add_argument("--offline", action="store_true", help="no broker: the file side only")
    parser.add_argument("--offline-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()
    if args.offline_child:
        _offline_child(int(args.offline_child[0]), Path(args.offline_child[1]))
        return
    if args.offline:
        figures = offline(args.rows)
    else:
        figures = asyncio.run(online(args.rows, args.window, args.workers, args.latency_ms))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        name = f"batch-{figures['mode']}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        (RESULTS / name).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
