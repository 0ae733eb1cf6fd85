"""Markdown tables from a results file: ``python -m benchmarks.report benchmarks/results/X.json``.

The figures part of ``docs/benchmarks.md`` is this output; the analysis around it is written
by hand.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["render"]


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _spread(s: dict[str, Any] | None, digits: int = 1, scale: float = 1.0) -> list[str]:
    if not s or s.get("median") is None:
        return ["–", "–", "–"]
    return [_fmt(s[k] * scale, digits) for k in ("min", "median", "max")]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _met(value: float | None, goal: float, higher: bool) -> str:
    if value is None:
        return "–"
    ok = value >= goal if higher else value <= goal
    return "met" if ok else "**missed**"


def render(results: dict[str, Any]) -> str:
    out: list[str] = []
    machine = results.get("machine", {})
    summary = results.get("summary", {})
    out.append(
        f"Run `{results.get('label')}`: `{results.get('command')}`, "
        f"{results.get('started_at')} to {results.get('finished_at')}"
        f"{' (quick)' if results.get('quick') else ''}.\n"
    )
    out.append(
        _table(
            ["machine", ""],
            [
                ["cores", _fmt(machine.get("cores"))],
                ["CPU", _fmt(machine.get("cpu_model"))],
                ["memory", f"{_fmt(machine.get('memory_gib'))} GiB"],
                ["Python", _fmt(machine.get("python"))],
                ["RabbitMQ", _fmt(machine.get("rabbitmq"))],
                ["PostgreSQL", _fmt(machine.get("postgresql"))],
                ["packages", ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())],
                [
                    "load average (1, 5, 15 min) at start",
                    ", ".join(map(str, machine.get("load_average_at_start", []))),
                ],
                [
                    "load average at end",
                    ", ".join(map(str, results.get("load_average_at_end", []))),
                ],
            ],
        )
    )
    out.append("")

    rows: list[list[str]] = []

    def add(
        label: str,
        s: dict[str, Any] | None,
        goal: str = "",
        met: str = "",
        digits: int = 1,
        scale: float = 1.0,
    ) -> None:
        rows.append([label, *_spread(s, digits, scale), goal, met])

    def judged(
        label: str, s: dict[str, Any] | None, bound: float, *, higher: bool, digits: int = 1
    ) -> None:
        """A figure with its goal (at least ``bound`` when ``higher``, else at most) and
        whether the median of its runs meets it."""
        goal = f"{'≥' if higher else '≤'} {bound:g}"
        add(label, s, goal, _met(s.get("median") if s else None, bound, higher), digits=digits)

    base = summary.get("baseline", {})
    path = summary.get("path", {})
    lat = summary.get("latency", {})
    hid = summary.get("hiding", {})
    bat = summary.get("batch", {})
    costs = summary.get("costs", {})
    if base:
        add("1 baseline throughput (req/s)", base.get("throughput_rps"), digits=0)
    if path:
        add("2 path throughput (req/s)", path.get("throughput_rps"), digits=0)
        ratio = path.get("ratio_to_baseline")
        judged("2 path / baseline (paired runs)", ratio, 0.5, higher=True, digits=2)
        add("2 worker CPU per request (ms)", path.get("cpu_ms_per_request.worker"), digits=2)
    if lat:
        add("3 rate (req/s, half of case 2)", lat.get("target_rate_rps"), digits=0)
        p50 = lat.get("latency_less_upstream_ms.p50")
        p99 = lat.get("latency_less_upstream_ms.p99")
        judged("3 p50 less upstream (ms)", p50, 5, higher=False)
        add("3 p95 less upstream (ms)", lat.get("latency_less_upstream_ms.p95"))
        judged("3 p99 less upstream (ms)", p99, 25, higher=False)
        e50, e99 = lat.get("latency_ms.p50"), lat.get("latency_ms.p99")
        judged("3 p50 end to end (ms)", e50, 5, higher=False)
        add("3 p95 end to end (ms)", lat.get("latency_ms.p95"))
        judged("3 p99 end to end (ms)", e99, 25, higher=False)
        add(
            "3 upstream exchange p50 (ms, timed by the worker)",
            lat.get("upstream_ms.p50"),
            digits=2,
        )
        add("3 transport alone, same pace: p50 (ms)", lat.get("transport_only_latency_ms.p50"))
        add("3 transport alone, same pace: p99 (ms)", lat.get("transport_only_latency_ms.p99"))
    if hid:
        add("4 throughput at 200±50 ms (req/s)", hid.get("throughput_rps"), digits=0)
        ratio = hid.get("ratio_to_path")
        judged("4 / case 2's median", ratio, 0.9, higher=True, digits=2)
        paired = hid.get("paired_ratio")
        if paired and paired.get("median") is not None:
            add(
                "4 zero latency just before, same worker (req/s)",
                hid.get("paired_zero_latency_rps"),
                digits=0,
            )
            add(
                "4 / zero latency just before (paired)",
                paired,
                "≥ 0.9",
                _met(paired.get("median"), 0.9, True),
                digits=2,
            )
    if bat:
        add("5 batch rows/s", bat.get("rows_per_s"), digits=0)
        add("5 runner peak RSS (MiB)", bat.get("peak_rss_mib"))
    soak = summary.get("soak", {})
    if soak:
        add("10 soak rate (req/s, half of case 2)", soak.get("target_rate_rps"), digits=0)
        add("10 soak requests answered", soak.get("answered"), digits=0)
        add("10 soak error replies (5xx, none)", soak.get("error_replies"), digits=0)
        add("10 soak worker RSS at start (MiB)", soak.get("worker_rss_start_mib"))
        add("10 soak worker RSS at end (MiB)", soak.get("worker_rss_end_mib"))
    for name, budget in (("signing", "≤ 10%"), ("journal", "≤ 15%")):
        item = costs.get(name)
        if item:
            s = item.get("throughput_cost_runs")
            add(
                f"6 {name}: share of throughput (%)",
                s,
                budget,
                _met(s.get("median") if s else None, item.get("budget", 1), False),
                scale=100,
            )
            add(f"6 {name}: share of worker CPU (%)", item.get("worker_cpu_share_runs"), scale=100)
            if "microbench_us" in item:
                rows.append(
                    [
                        f"6 {name}: bench_signing.py seal − json.dumps (µs; % of worker CPU)",
                        "",
                        _fmt(item["microbench_us"]),
                        "",
                        f"{item['microbench_share_of_worker_cpu'] * 100:.1f}%",
                        "",
                    ]
                )
    loop = summary.get("loop")
    if loop:
        # (label, part of the summary, figure, digits, scale): the loop case's rows
        for label, part, key, digits, scale in (
            ("6 asyncio loop: path throughput (req/s)", "asyncio", "throughput_rps", 0, 1.0),
            ("6 uvloop: path throughput (req/s)", "uvloop", "throughput_rps", 0, 1.0),
            ("6 uvloop: throughput gain, paired rounds (%)", "gain", "throughput_gain", 1, 100),
            ("6 uvloop: worker CPU per request saved (%)", "gain", "worker_cpu_saved", 1, 100),
        ):
            add(label, loop.get(part, {}).get(key), digits=digits, scale=scale)
    for key, label in (
        ("lanes", "one worker"),
        ("lanes_slow", "one worker, provider at 200 ms"),
        ("lanes_clerk", "one worker, a clerk every 0.2 s, provider at 50 ms"),
        ("lanes_split", "worker per lane, bulk niced"),
    ):
        item = summary.get(key)
        if not item:
            continue
        add(f"6 {label}: interactive p99 idle (ms)", item.get("idle_latency_ms.p99"))
        add(f"6 {label}: interactive p99 under bulk flood (ms)", item.get("loaded_latency_ms.p99"))
        add(f"6 {label}: bulk req/s alone", item.get("bulk_rps_alone"), digits=0)
        add(
            f"6 {label}: bulk req/s beside interactive traffic",
            item.get("bulk_rps_beside_interactive"),
            digits=0,
        )
        ratio = item.get("p99_ratio")
        add(
            f"6 {label}: ratio",
            ratio,
            "≤ 2",
            _met(ratio.get("median") if ratio else None, 2, False),
            digits=2,
        )
    if rows:
        out.append(_table(["figure", "min", "median", "max", "goal", ""], rows))
        out.append("")

    cpu_rows = []
    for case, label in (("baseline", "1 baseline"), ("path", "2 path"), ("hiding", "4 hiding")):
        runs = results.get("cases", {}).get(case, {}).get("runs", [])
        if not runs:
            continue
        last = runs[len(runs) // 2]
        per = last.get("cpu_ms_per_request", {})
        cores = last.get("cpu_cores_used", {})
        cpu_rows.append(
            [
                label,
                *(
                    f"{_fmt(per.get(k), 3)} ({_fmt(cores.get(k), 2)})"
                    for k in ("client", "replier", "worker", "simulator", "rabbitmq", "postgres")
                ),
            ]
        )
    if cpu_rows:
        out.append("CPU milliseconds per request by process (cores busy), middle run:\n")
        out.append(
            _table(
                ["case", "client", "replier", "worker", "simulator", "RabbitMQ", "PostgreSQL"],
                cpu_rows,
            )
        )
        out.append("")

    prof = summary.get("profile")
    if prof and prof.get("samples"):
        per = prof.get("worker_cpu_ms_per_request", {})
        out.append(
            f"Worker CPU by step ({prof['samples']} py-spy samples; worker "
            f"{_fmt(per.get('median'), 3)} ms CPU per request, median of runs):\n"
        )
        step_rows = []
        for step, item in sorted(prof["steps"].items(), key=lambda kv: -kv[1]["share"]):
            if not item["share"]:
                continue
            runs_spread = item.get("share_runs", {})
            step_rows.append(
                [
                    step,
                    f"{item['share'] * 100:.1f}%",
                    " – ".join(_fmt((runs_spread.get(k) or 0) * 100) for k in ("min", "max")),
                    _fmt(item["cpu_us_per_request"], 0),
                    ", ".join(f"{name} {share * 100:.1f}%" for name, share in item["layers"][:4]),
                ]
            )
        out.append(
            _table(
                [
                    "step",
                    "share",
                    "runs min – max (%)",
                    "µs/request",
                    "where (leaf package, % of all)",
                ],
                step_rows,
            )
        )
        out.append("")
        out.append("Leaf frames (self time):\n")
        out.append(
            _table(
                ["frame", "share"],
                [[f"`{name}`", f"{share * 100:.1f}%"] for name, share in prof["top_self"][:15]],
            )
        )
        out.append("")
    client = (prof or {}).get("client") or {}
    if client.get("samples"):
        out.append(
            f"SDK client CPU by step ({client['samples']} samples of the benchmark "
            "process during the same load):\n"
        )
        out.append(
            _table(
                ["step", "share"],
                [
                    [step, f"{share * 100:.1f}%"]
                    for step, share in sorted(client["shares"].items(), key=lambda kv: -kv[1])
                    if share
                ],
            )
        )
        out.append("")
    for variant_name in ("full", "nosign", "nojournal"):
        item = costs.get(variant_name)
        if item and variant_name == "full":
            out.append("Ablation (benchmark worker, client verification off):\n")
            ab_rows = []
            for name in ("full", "nosign", "nojournal"):
                v = costs.get(name, {})
                ab_rows.append(
                    [
                        name,
                        *_spread(v.get("throughput_rps"), 0),
                        *_spread(v.get("cpu_ms_per_request.worker"), 3),
                    ]
                )
            out.append(
                _table(
                    ["variant", "req/s min", "median", "max", "worker ms/req min", "median", "max"],
                    ab_rows,
                )
            )
            out.append("")
    return "\n".join(out)


def main() -> None:
    for name in sys.argv[1:]:
        print(render(json.loads(Path(name).read_text())))


if __name__ == "__main__":
    main()
