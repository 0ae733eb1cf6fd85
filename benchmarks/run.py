"""``make bench``: every case of issue 6 in one set-up, results to ``benchmarks/results/``.

    python -m benchmarks.run                 # everything, 3 runs each (about 30 minutes)
    python -m benchmarks.run --quick         # a smoke run: small counts, 1 run each
    python -m benchmarks.run --cases 1,2     # some cases: numbers or names (6 = profile,
                                             # costs, lanes)

The set-up is the benchmark's own: a RabbitMQ vhost, a PostgreSQL database, a signing key
directory, the simulator and the workers as separate processes; all removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gzip
import json
import logging
import shlex
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import report
from .cases import CASES, Bench, Config
from .environment import BenchEnv, load_average, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = (
    "baseline",
    "path",
    "latency",
    "idle",
    "profile",
    "costs",
    "loop",
    "lanes",
    "lanes_slow",
    "lanes_clerk",
    "lanes_split",
    "hiding",
    "batch",
    "coalescing",
    "cache",
    "gateway",
    "soak",
)
ON_REQUEST = ("soak",)
"""Cases run only when named (``--cases soak``): the soak lasts 20 minutes."""


def _select(text: str | None) -> list[str]:
    if not text:
        return [name for name in ORDER if name not in ON_REQUEST]
    chosen: set[str] = set()
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token in CASES:
            chosen.add(token)
            continue
        matching = [name for name, case in CASES.items() if case.number == token]
        if not matching:
            raise SystemExit(f"unknown case {token!r}: use 1-6 or {', '.join(CASES)}")
        chosen.update(matching)
    return [name for name in ORDER if name in chosen]


def keep_profiles(bench: Bench, label: str, results: dict[str, Any]) -> None:
    """Keep the py-spy raw files, gzipped, in ``benchmarks/results/profiles/`` (re-read them
    with ``python -m benchmarks.profiling [--client] FILE...``)."""
    folder = RESULTS / "profiles"
    kept: list[str] = []
    for kind, files in (("worker", bench.profiles), ("client", bench.client_profiles)):
        for index, raw in enumerate(files):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{label}-{kind}-{index}.raw.gz"
            with raw.open("rb") as source, gzip.open(folder / name, "wb") as target:
                shutil.copyfileobj(source, target)
            kept.append(f"profiles/{name}")
    if kept:
        results["profiles"] = kept


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("PARTICULIER_"):
        raise argparse.ArgumentTypeError(f"expected PARTICULIER_NAME=VALUE, got {text!r}")
    return name, value


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _main(args: argparse.Namespace, config: Config, selected: list[str]) -> dict[str, Any]:
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results: dict[str, Any] = {
        "command": "python -m benchmarks.run " + shlex.join(sys.argv[1:]),
        "quick": args.quick,
        "started_at": started,
        "machine": machine_info(),
        "config": dataclasses.asdict(config),
        "cases_selected": selected,
        "cases": {},
        "summary": {},
        "errors": {},
    }
    out = args.out
    _log(f"machine: {results['machine']['cores']} cores, load {load_average()}")
    env = BenchEnv(
        keep_logs=args.keep_logs,
        worker_env=dict(args.worker_env),
        worker_processes=args.worker_processes,
    )
    results["label"] = env.label

    def save() -> None:
        results["load_average_at_end"] = load_average()
        results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=1, default=str) + "\n")

    async with env:
        _log(f"vhost {env.vhost}, database {env.database}, work dir {env.workdir}")
        bench = Bench(env, config, results=results["cases"], log=_log)
        await bench.start()
        interleaved = [n for n in ("baseline", "path") if n in selected]
        phases: list[list[str]] = [list(interleaved)] if interleaved else []
        phases += [[n] for n in selected if n not in interleaved]
        for phase in phases:
            rounds = CASES[phase[0]].rounds or (
                config.cost_runs if phase in (["costs"], ["loop"]) else config.runs
            )
            try:
                for run in range(rounds):
                    for name in phase:
                        await env.empty_cache()
                        await CASES[name].run(bench, run)
            except Exception as exc:  # one case failing must not lose the others
                _log(f"case {'/'.join(phase)} failed: {exc!r}")
                results["errors"]["/".join(phase)] = traceback.format_exc()
                if args.fail_fast:
                    raise
            for name in phase:
                try:
                    results["summary"][name] = CASES[name].summarise(bench)
                except Exception as exc:
                    results["errors"][f"summary {name}"] = repr(exc)
            if args.save_profiles:
                keep_profiles(bench, env.label, results)
            save()
    save()
    return results


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    for noisy in ("aio_pika", "aiormq"):  # consumers cancelled when reply queues are deleted
        logging.getLogger(noisy).setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, one run per case")
    parser.add_argument("--cases", help="comma-separated: 1-6 or " + ", ".join(ORDER))
    parser.add_argument("--runs", type=int, help="runs per case (default 3, quick 1)")
    parser.add_argument("--requests", type=int, help="requests of cases 1, 2 and 4")
    parser.add_argument("--batch-rows", type=int, help="rows of case 5")
    parser.add_argument("--concurrency", type=int, help="requests in flight (cases 1, 2)")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/)")
    parser.add_argument("--no-save", action="store_true", help="write no results file")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the work directory (process logs, profiles)"
    )
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=1,
        metavar="N",
        help="processes of the production worker (particulier worker --processes N)",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        type=_setting,
        metavar="NAME=VALUE",
        help="a setting for the workers, e.g. PARTICULIER_BULK_FLOOR=2 (repeatable)",
    )
    args = parser.parse_args()

    config = Config.quick() if args.quick else Config()
    overrides: dict[str, Any] = {}
    if args.runs:
        overrides["runs"] = args.runs
        overrides["cost_runs"] = max(args.runs, config.cost_runs) if not args.quick else args.runs
    if args.requests:
        overrides["requests"] = overrides["hiding_requests"] = args.requests
    if args.batch_rows:
        overrides["batch_rows"] = args.batch_rows
    if args.concurrency:
        overrides["concurrency"] = args.concurrency
    config = dataclasses.replace(config, **overrides)
    selected = _select(args.cases)
    if args.no_save:
        args.out = None
    elif args.out is None:
        prefix = "quick" if args.quick else "full"
        args.out = RESULTS / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    args.save_profiles = args.out is not None and not args.quick

    loop_task: asyncio.Task[dict[str, Any]] | None = None

    async def runner() -> dict[str, Any]:
        nonlocal loop_task
        loop_task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: loop_task and loop_task.cancel())
        return await _main(args, config, selected)

    results = asyncio.run(runner())
    print()
    print(report.render(results))
    if results["errors"]:
        print("\nerrors:", ", ".join(results["errors"]), file=sys.stderr)
    if args.out is not None:
        print(f"\nresults written to {args.out}")
    sys.exit(1 if results["errors"] else 0)


if __name__ == "__main__":
    main()
