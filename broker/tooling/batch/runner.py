"""The file-to-file batch runner behind ``particulier batch run|resume|status``.

It joins the pieces: rows streamed from the input, a :class:`BatchSession` over the bulk lane,
results appended to the output, the checkpoint committed after each flush and only then the
replies acknowledged, progress, and the final report. See ``docs/batch.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from yarl import URL

from ...certification import local_jwks
from ...config import settings
from ...sdk import (
    DEFAULT_QUEUE_EXPIRES_MS,
    BatchResult,
    BatchSession,
    Client,
    InputFormat,
    RowMapping,
    batch_queue_name,
    check_run_id,
    connect,
    count_rows,
    csv_header,
    detect_delimiter,
    file_digest,
    input_format,
    new_run_id,
    node_urls,
    outcome_of,
    param_kinds,
    read_rows,
)
from ...sdk.contract import Lane
from .checkpoint import Checkpoint, CheckpointError, RunSpec, run_path, state_dir
from .outputs import data_columns, open_writer, output_format
from .progress import make_progress
from .report import Report, build_report, code_title, paused_text, render_html

__all__ = ["BatchError", "RunOptions", "resume_run", "run_status", "start_run"]

log = logging.getLogger("particulier.batch")

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
COMMIT_SECONDS = 0.5


class BatchError(Exception):
    """A run cannot start or go on (bad input, unknown dataset, changed files...)."""


@dataclass
class RunOptions:
    input: Path
    dataset: str
    recipient: str
    output: Path
    mapping: dict[str, str]
    version: int | None = None
    run_id: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    delimiter: str | None = None
    id_column: str | None = None
    report: Path | None = None
    window: int = 256
    rate: float | None = None
    reply_timeout: float = 600.0
    retries: int = 3
    queue_expires_ms: int = DEFAULT_QUEUE_EXPIRES_MS
    verify: bool = True
    overwrite: bool = False
    state_dir: Path | None = None


def _dataset(dataset: str, version: int | None) -> Any:
    from ... import registry

    found = registry.dataset(dataset, version)
    if found is None:
        known = ", ".join(sorted({d.id for d in registry.datasets()}))
        raise BatchError(
            f"unknown dataset {dataset!r}"
            + (f" v{version}" if version else "")
            + f"; known: {known}"
        )
    return found


def start_run(options: RunOptions, console: Console) -> int:
    """Check the input, create the run's checkpoint and output, and run it to the end."""
    declared = _dataset(options.dataset, options.version)
    if not options.input.is_file():
        raise BatchError(f"no input file {options.input}")
    fmt = input_format(options.input, options.input_format)
    delimiter = options.delimiter
    if fmt is InputFormat.CSV:
        with options.input.open("r", encoding="utf-8-sig", errors="replace") as handle:
            delimiter = delimiter or detect_delimiter(handle.readline())
        header = csv_header(options.input, delimiter)
        mapping = RowMapping(options.mapping, kinds=param_kinds(declared.params))
        missing = mapping.missing_columns(header)
        if missing:
            raise BatchError(
                f"the header of {options.input.name} lacks mapped columns: " + ", ".join(missing)
            )
        if not options.mapping and not set(header) & set(param_kinds(declared.params)):
            raise BatchError(
                f"no column of {options.input.name} is a parameter of {declared.id}; "
                "name columns after the parameters or use --map column=param"
            )
    run_id = check_run_id(options.run_id or new_run_id())
    directory = state_dir(options.state_dir)
    path = run_path(directory, run_id)
    if path.exists():
        raise BatchError(f"run {run_id} exists already: `particulier batch resume {run_id}`")
    if options.output.exists() and not options.overwrite:
        raise BatchError(f"{options.output} exists; pass --overwrite to replace it")
    out_fmt = output_format(options.output, options.output_format)
    if console.is_terminal:
        console.print(f"[dim]counting the rows of {options.input.name}…[/]", highlight=False)
    total = count_rows(options.input, fmt, delimiter=delimiter)
    requester = URL(node_urls(settings().amqp_url)[0]).user or "guest"
    spec = RunSpec(
        run_id=run_id,
        dataset=declared.id,
        version=options.version,
        recipient=options.recipient,
        input=str(options.input.resolve()),
        input_format=fmt.value,
        delimiter=delimiter,
        output=str(options.output.resolve()),
        output_format=out_fmt,
        output_delimiter=delimiter if fmt is InputFormat.CSV and delimiter else ",",
        report=str((options.report or _report_path(options.output)).resolve()),
        total=total,
        input_sha256=file_digest(options.input),
        requester=requester,
        queue=batch_queue_name(requester, run_id),
        mapping=dict(options.mapping),
        id_column=options.id_column,
        window=options.window,
        rate=options.rate,
        reply_timeout=options.reply_timeout,
        retries=options.retries,
        queue_expires_ms=options.queue_expires_ms,
        verify=options.verify,
    )
    writer, offset = open_writer(
        options.output,
        out_fmt,
        paths=data_columns(declared.data),
        delimiter=spec.output_delimiter,
    )
    writer.close()
    checkpoint = Checkpoint.create(path, spec, offset)
    try:
        checkpoint.lock()
        console.print(
            f"run [bold]{run_id}[/]: {total:,} rows of {options.input.name} → {declared.id} "
            f"(window {spec.window}); resume with `particulier batch resume {run_id}`",
            highlight=False,
        )
        return _run(checkpoint, resumed=False, console=console)
    finally:
        checkpoint.close()


def resume_run(
    run_id: str,
    console: Console,
    *,
    directory: Path | None = None,
    window: int | None = None,
    rate: float | None = None,
    force: bool = False,
) -> int:
    """Go on with a run after a crash or Ctrl-C, from its checkpoint."""
    path = run_path(state_dir(directory), check_run_id(run_id))
    try:
        checkpoint = Checkpoint.open(path)
    except CheckpointError as exc:
        raise BatchError(str(exc)) from None
    try:
        checkpoint.lock()
        spec = checkpoint.spec
        if checkpoint.state == "complete":
            console.print(f"run {run_id} is complete")
            _print_report(build_report(checkpoint), console)
            return EXIT_OK
        source = Path(spec.input)
        if not source.is_file():
            raise BatchError(f"the input {source} is gone")
        if not force and file_digest(source) != spec.input_sha256:
            raise BatchError(f"{source.name} changed since the run started (--force to go on)")
        if not Path(spec.output).is_file():
            raise BatchError(f"the output {spec.output} is gone")
        changed = False
        if window is not None and window != spec.window:
            spec.window, changed = window, True
        if rate is not None and rate != spec.rate:
            spec.rate, changed = rate, True
        if changed:
            checkpoint.update_spec(spec)
        console.print(
            f"resuming run [bold]{run_id}[/]: {checkpoint.count():,} of {spec.total:,} rows "
            "answered",
            highlight=False,
        )
        return _run(checkpoint, resumed=True, console=console)
    except CheckpointError as exc:
        raise BatchError(str(exc)) from None
    finally:
        checkpoint.close()


def _run(checkpoint: Checkpoint, *, resumed: bool, console: Console) -> int:
    """Run the event loop; a broker out of reach is a clear error, not a traceback."""
    import aio_pika

    try:
        return asyncio.run(_execute(checkpoint, resumed=resumed, console=console))
    except (aio_pika.exceptions.AMQPConnectionError, ConnectionError) as exc:
        run_id = checkpoint.spec.run_id
        raise BatchError(
            f"RabbitMQ cannot be reached ({exc}); run {run_id} is kept: "
            f"`particulier batch resume {run_id}` once it is up"
        ) from None


async def _execute(checkpoint: Checkpoint, *, resumed: bool, console: Console) -> int:
    spec = checkpoint.spec
    declared = _dataset(spec.dataset, spec.version)
    answered = checkpoint.answered()
    counts: Counter[str] = Counter()
    for status, _, n in checkpoint.counts():
        counts[outcome_of(status)] += n
    writer, _ = open_writer(
        Path(spec.output),
        output_format(Path(spec.output), spec.output_format),
        paths=data_columns(declared.data),
        delimiter=spec.output_delimiter,
        offset=checkpoint.offset,
    )
    mapping = RowMapping(spec.mapping, kinds=param_kinds(declared.params), id_column=spec.id_column)
    rows = read_rows(
        Path(spec.input),
        InputFormat(spec.input_format),
        mapping,
        delimiter=spec.delimiter,
        skip=answered.__contains__,
    )
    checkpoint.begin_session()
    buffer: list[BatchResult] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    began = time.monotonic()
    session_rows = 0

    async def commit() -> None:
        if not buffer:
            return
        batch = list(buffer)
        buffer.clear()
        offset = writer.flush()
        checkpoint.record(
            (
                (
                    r.row,
                    r.status,
                    r.code,
                    None if r.latency is None else r.latency * 1000,
                    r.attempts,
                )
                for r in batch
            ),
            offset,
        )
        for result in batch:
            await result.ack()

    state = "interrupted"
    session: BatchSession | None = None
    progress = make_progress(spec.run_id, spec.total, len(answered), counts, console)
    try:
        jwks = local_jwks() if spec.verify else None
        url = settings().amqp_url
        async with Client(url, lane=Lane.BULK, verify=spec.verify, jwks=jwks) as client:
            session = BatchSession(
                client,
                spec.dataset,
                rows,
                recipient=spec.recipient,
                window=spec.window,
                run_id=spec.run_id,
                version=spec.version,
                rate=spec.rate,
                reply_timeout=spec.reply_timeout,
                retries=spec.retries,
                auto_ack=False,
                done=answered.__contains__,
                drain=resumed,
                queue_expires_ms=spec.queue_expires_ms,
            )

            async def pump() -> None:
                nonlocal session_rows
                last = time.monotonic()
                async for result in session:
                    if result.row in answered:
                        await result.ack()
                        continue
                    writer.write(result)
                    answered.add(result.row)
                    buffer.append(result)
                    progress.advance(result.outcome)
                    session_rows += 1
                    if len(buffer) >= spec.window or time.monotonic() - last >= COMMIT_SECONDS:
                        last = time.monotonic()
                        await commit()
                await commit()

            async def tick() -> None:
                while True:
                    await asyncio.sleep(COMMIT_SECONDS)
                    await commit()
                    session.refresh_stats()
                    progress.refresh(session.stats)

            with progress:
                async with session:
                    work = asyncio.create_task(pump())
                    ticker = asyncio.create_task(tick())
                    halt = asyncio.create_task(stop.wait())
                    try:
                        await asyncio.wait({work, halt}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for task in (work, ticker, halt):
                            task.cancel()
                        outcome, _, _ = await asyncio.gather(
                            work, ticker, halt, return_exceptions=True
                        )
                    await commit()
                    if isinstance(outcome, Exception):
                        raise outcome
                    if not isinstance(outcome, BaseException):
                        state = "complete"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        with contextlib.suppress(Exception):
            await commit()
        writer.close()
        if session is not None:
            checkpoint.add_pause(session.stats.paused, session.stats.paused_seconds)
        checkpoint.end_session(state)
        report = build_report(checkpoint)
        report.session_rows = session_rows
        report.session_seconds = time.monotonic() - began
        _write_report(Path(spec.report), report)
    _print_report(report, console)
    console.print(f"report: {spec.report}", highlight=False)
    if state != "complete":
        console.print(
            f"run {spec.run_id} interrupted: `particulier batch resume {spec.run_id}` goes on "
            "(replies to rows in flight wait in its queue)",
            highlight=False,
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


def _write_report(path: Path, report: Report) -> None:
    path.write_text(render_html(report), encoding="utf-8")


def _report_path(output: Path) -> Path:
    return output.with_name(output.name + ".report.html")


def _print_report(report: Report, console: Console) -> None:
    table = Table(title=f"run {report.run_id} · {report.dataset} · {report.state}")
    table.add_column("status", justify="right")
    table.add_column("code")
    table.add_column("meaning")
    table.add_column("rows", justify="right")
    for status, code, n in report.groups:
        table.add_row(str(status), code or "", code_title(code), f"{n:,}")
    console.print(table)
    pct = report.percentiles()

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:,.1f} ms"

    line = (
        f"{report.answered:,}/{report.total:,} rows; throughput {report.throughput:,.0f} rows/s "
        f"over {report.active_seconds:,.1f} s of work"
    )
    if report.session_seconds:
        line += f" (this session {report.session_rows:,} rows in {report.session_seconds:,.1f} s)"
    console.print(line, highlight=False)
    console.print(
        f"latency p50 {ms(pct['p50'])}, p95 {ms(pct['p95'])}, p99 {ms(pct['p99'])}",
        highlight=False,
    )
    paused = paused_text(report)
    if paused is not None:
        console.print(paused, highlight=False)


def run_status(
    run_id: str, *, directory: Path | None = None, broker: bool = True
) -> dict[str, Any]:
    """What a run has done so far, from its checkpoint (and its queue's depth if reachable)."""
    path = run_path(state_dir(directory), check_run_id(run_id))
    try:
        checkpoint = Checkpoint.open(path, readonly=True)
    except CheckpointError as exc:
        raise BatchError(str(exc)) from None
    try:
        spec = checkpoint.spec
        report = build_report(checkpoint)
        state = checkpoint.state
        if state == "running" and not checkpoint.locked_by_other():
            state = "interrupted (runner gone)"
        status: dict[str, Any] = report.as_dict()
        status.update(
            state=state,
            input=spec.input,
            output=spec.output,
            report=spec.report,
            queue=spec.queue,
            window=spec.window,
            sessions=len(checkpoint.sessions()),
            checkpoint=str(path),
        )
    finally:
        checkpoint.close()
    if broker:
        status["replies_waiting"] = _queue_depth(spec.queue)
    return status


def _queue_depth(queue: str) -> int | None:
    """Replies waiting in the run's queue, or ``None`` if the broker or queue is not there."""

    async def depth() -> int | None:
        connection = await connect(settings().amqp_url, name="particulier-batch", timeout=3)
        async with connection:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except Exception:
                return None
            return int(declared.declaration_result.message_count or 0)

    try:
        return asyncio.run(asyncio.wait_for(depth(), 5))
    except Exception:
        return None


def status_text(status: dict[str, Any]) -> str:
    """``batch status`` for a person."""
    lines = [
        f"run {status['run_id']} · {status['dataset']} · {status['state']}",
        f"rows answered {status['answered']:,} of {status['total']:,}",
        "outcomes " + ", ".join(f"{k} {v:,}" for k, v in status["outcomes"].items() if v),
        f"throughput {status['throughput_rows_per_s']:,} rows/s over "
        f"{status['active_seconds']:,} s in {status['sessions']} session(s)",
        "latency "
        + ", ".join(
            f"{k} {'–' if v is None else f'{v:,} ms'}" for k, v in status["latency_ms"].items()
        ),
        f"output {status['output']}",
        f"report {status['report']}",
        f"queue {status['queue']}"
        + (
            ""
            if status.get("replies_waiting") is None
            else f" ({status['replies_waiting']:,} replies waiting)"
        ),
    ]
    return "\n".join(lines)


def dumps(status: dict[str, Any]) -> str:
    return json.dumps(status, ensure_ascii=False, indent=2)
