"""``particulier batch run|resume|status`` and ``particulier population export``."""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..._cli import console as wide_console

__all__ = ["batch_app", "population_app"]

batch_app = typer.Typer(
    help="Nightly eligibility runs: a CSV or JSONL file through the bulk lane, resumable.",
    no_args_is_help=True,
)
population_app = typer.Typer(
    help="The synthetic population the simulators know.", no_args_is_help=True
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        help="Folder of run checkpoints (default $PARTICULIER_BATCH_DIR, else "
        "~/.local/state/particulier/batch)."
    ),
]


def _logging(console: Console) -> None:
    """Log lines on stderr; on a terminal, through the console, so that they print above the
    progress bar instead of through it."""
    if not logging.getLogger().handlers:
        if console.is_terminal:
            from rich.logging import RichHandler

            handler: logging.Handler = RichHandler(console=console, show_path=False)
            logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])
        else:
            logging.basicConfig(
                level=logging.INFO,
                format="%(asctime)s %(levelname)s %(name)s %(message)s",
                stream=sys.stderr,
            )
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


@batch_app.command("run")
def run_command(
    input: Annotated[Path, typer.Argument(help="CSV (, or ;) with a header row, or JSONL.")],
    dataset: Annotated[str, typer.Option(help="Dataset id, e.g. cnav.quotient_familial.")],
    recipient: Annotated[str, typer.Option(help="SIRET of the receiving public body.")],
    out: Annotated[Path, typer.Option(help="Output file, .csv or .jsonl.")],
    map: Annotated[
        list[str] | None,
        typer.Option("--map", help="column=param: the column giving an API parameter; repeatable."),
    ] = None,
    version: Annotated[int | None, typer.Option(help="Dataset version (3 or 4).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Run id (default: time-based).")] = None,
    window: Annotated[int, typer.Option(min=1, help="Rows in flight at most.")] = 256,
    rate: Annotated[
        float | None,
        typer.Option(help="Requests per second at most (the habilitation's bulk rate)."),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Column holding the row id (default: 'id' if present).")
    ] = None,
    input_format: Annotated[
        str | None, typer.Option(help="csv or jsonl (default: from the extension).")
    ] = None,
    output_format: Annotated[
        str | None, typer.Option(help="csv or jsonl (default: from the extension).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter (default: detected, , or ;).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="HTML report (default: OUTPUT.report.html).")
    ] = None,
    reply_timeout: Annotated[
        float, typer.Option(help="Seconds without a reply before a row is sent again.")
    ] = 600.0,
    retries: Annotated[
        int, typer.Option(help="Re-sends after transient errors or silence (429s are free).")
    ] = 3,
    queue_days: Annotated[
        float, typer.Option(help="Days the run's reply queue outlives its runner.")
    ] = 3.0,
    verify: Annotated[bool, typer.Option(help="Check every reply's proof of origin.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Check every row of INPUT against DATASET; write one result per row to OUT."""
    from ...sdk import parse_map
    from .runner import BatchError, RunOptions, start_run

    console = wide_console()
    _logging(console)
    try:
        mapping = parse_map(map or [])
        options = RunOptions(
            input=input,
            dataset=dataset,
            recipient=recipient,
            output=out,
            mapping=mapping,
            version=version,
            run_id=run_id,
            input_format=input_format,
            output_format=output_format,
            delimiter=delimiter,
            id_column=id_column,
            report=report,
            window=window,
            rate=rate,
            reply_timeout=reply_timeout,
            retries=retries,
            queue_expires_ms=int(queue_days * 24 * 3600 * 1000),
            verify=verify,
            overwrite=overwrite,
            state_dir=state_dir,
        )
        code = start_run(options, console)
    except (BatchError, ValueError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@batch_app.command("resume")
def resume_command(
    run: Annotated[str, typer.Argument(help="The run id.")],
    window: Annotated[int | None, typer.Option(min=1, help="New window.")] = None,
    rate: Annotated[float | None, typer.Option(help="New rate limit (requests/s).")] = None,
    force: Annotated[bool, typer.Option(help="Go on even though the input file changed.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Go on with RUN after a crash or Ctrl-C: answered rows are not asked again."""
    from .runner import BatchError, resume_run

    console = wide_console()
    _logging(console)
    try:
        code = resume_run(run, console, directory=state_dir, window=window, rate=rate, force=force)
    except (BatchError, ValueError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@batch_app.command("status")
def status_command(
    run: Annotated[str, typer.Argument(help="The run id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    broker: Annotated[
        bool, typer.Option(help="Ask RabbitMQ how many replies wait in the run's queue.")
    ] = True,
    state_dir: StateDir = None,
) -> None:
    """Rows answered, outcomes, throughput and latency of RUN so far."""
    from .runner import BatchError, dumps, run_status, status_text

    try:
        status = run_status(run, directory=state_dir, broker=broker)
    except (BatchError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(dumps(status) if as_json else status_text(status))


@population_app.command("export")
def export_command(
    size: Annotated[int, typer.Option(min=1, help="People to write.")],
    out: Annotated[Path, typer.Option(help="people.csv or people.jsonl.")],
    start: Annotated[int, typer.Option(min=0, help="Index of the first person.")] = 0,
    delimiter: Annotated[str, typer.Option(help="CSV delimiter.")] = ",",
) -> None:
    """Write SIZE synthetic identities (API Particulier parameter names as columns)."""
    from ...simulation import Population

    population = Population(max(1_000_000, start + size))
    columns = [
        "id",
        "nomNaissance",
        "prenoms",
        "sexeEtatCivil",
        "anneeDateNaissance",
        "moisDateNaissance",
        "jourDateNaissance",
        "codeCogInseeCommuneNaissance",
        "codeCogInseePaysNaissance",
        "ine",
        "identifiant",
    ]
    jsonl = out.suffix.lower() in {".jsonl", ".ndjson"}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        if not jsonl:
            writer.writerow(columns)
        for index in range(start, start + size):
            person = population.person(index)
            record: dict[str, object] = {
                "id": f"P{index:07d}",
                **person.params(),
                "ine": person.ine,
                "identifiant": person.identifiant,
            }
            if jsonl:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                prenoms = record["prenoms"]
                record["prenoms"] = " ".join(prenoms) if isinstance(prenoms, list) else prenoms
                writer.writerow([record[c] for c in columns])
    typer.echo(f"wrote {size:,} people to {out}")
