"""``particulier audit`` and ``particulier stats``: checking and reading the journal."""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import asyncpg
import typer

from .. import registry
from .._cli import AsJson, instant, listing
from ..db.settings import DatabaseSettings
from ..errors import ProblemError
from ..kit import validate_params
from .lookup import Access, accesses_by_agency, accesses_to_subject, daily_counts
from .pseudonym import pseudonym
from .purge import PurgeError, parse_age, purge
from .verify import verify

__all__ = ["audit_app", "stats_command", "subject_of"]

SubjectOf = Callable[[dict[str, Any]], dict[str, Any]]

subject_of: SubjectOf | None = None
"""When set, ``audit subject`` turns request params into the subject with it, whatever the
dataset; otherwise it validates them with ``--dataset``'s params model."""

audit_app = typer.Typer(no_args_is_help=True, help="The audit journal: integrity and lookups.")

T = TypeVar("T")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Default PARTICULIER_DATABASE_URL.", show_default=False),
]


@audit_app.callback()
def _audit() -> None:
    """The audit journal: integrity and lookups."""


def _with_conn(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _app_url(url: str | None) -> str:
    return url or DatabaseSettings().database_url


def _print_accesses(accesses: Sequence[Access], as_json: bool) -> None:
    listing(
        accesses,
        as_json,
        {
            "when (UTC)": lambda a: a.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "asked by": lambda a: a.asked_by,
            "recipient": lambda a: a.recipient,
            "dataset": lambda a: a.dataset,
            "scopes": lambda a: ", ".join(a.scopes),
            "status": lambda a: str(a.status) + (f" {a.error_code}" if a.error_code else ""),
            "legal basis": lambda a: (
                None if a.legal_basis is None else f"{a.legal_basis} ({a.legal_reference})"
            ),
        },
        asked_by=lambda a: a.asked_by,
    )
    if as_json:
        return
    typer.echo(f"{len(accesses)} access(es)")


@audit_app.command("verify")
def verify_command(database_url: DatabaseUrl = None) -> None:
    """Check the hash chain; report the first row altered, inserted or deleted.

    Needs PARTICULIER_JOURNAL_KEY. Exits 1 when the chain is broken.
    """
    result = _with_conn(_app_url(database_url), verify)
    if result.problem is not None:
        typer.echo(f"journal BROKEN: {result.problem}", err=True)
        raise typer.Exit(1)
    span = f"rows {result.first_seq} to {result.last_seq}" if result.rows else "no rows"
    start = f", starting after purged row {result.anchor_seq}" if result.anchor_seq else ""
    typer.echo(f"journal intact: {result.rows} row(s), {span}{start}")


@audit_app.command("purge")
def purge_command(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Retention, e.g. 36m (months), 3y, 90d.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, drop nothing.")] = False,
    admin_url: Annotated[
        str | None,
        typer.Option(
            "--admin-url", help="Default PARTICULIER_DATABASE_ADMIN_URL.", show_default=False
        ),
    ] = None,
) -> None:
    """Drop the journal's monthly partitions wholly older than the retention period, and
    the replies kept for idempotency past their lifetime. The chain stays verifiable from
    the first remaining row. Needs PARTICULIER_JOURNAL_KEY."""
    try:
        age = parse_age(older_than)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    url = admin_url or DatabaseSettings().database_admin_url
    try:
        result = _with_conn(url, lambda c: purge(c, age, dry_run=dry_run))
    except PurgeError as exc:
        typer.echo(f"purge refused: {exc}", err=True)
        raise typer.Exit(1) from None
    verb = "would drop" if dry_run else "dropped"
    typer.echo(f"cutoff {result.cutoff.isoformat()}")
    typer.echo(f"{verb} journal partitions: {', '.join(result.journal_partitions) or 'none'}")
    typer.echo(f"{verb} reply partitions: {', '.join(result.reply_partitions) or 'none'}")
    if result.anchor_seq is not None:
        typer.echo(f"the chain now starts after row {result.anchor_seq}")


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation)) if origin else False


def _parse_params(pairs: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected name=value, got {name or pair!r}")
        parsed: Any = value
        if value[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        found.setdefault(name, []).append(parsed)
    return found


def _subject(params: dict[str, list[Any]], dataset: str | None) -> dict[str, Any]:
    if subject_of is not None:
        return subject_of({k: v[0] if len(v) == 1 else v for k, v in params.items()})
    if dataset is None:
        raise typer.BadParameter("name the dataset whose params these are (--dataset)")
    declared = registry.dataset(dataset)
    if declared is None:
        raise typer.BadParameter(f"unknown dataset {dataset}")
    model = declared.params
    lists = {
        alias
        for name, info in model.model_fields.items()
        if _is_list(info.annotation)
        for alias in (name, info.alias)
        if alias
    }
    raw: dict[str, Any] = {}
    for key, values in params.items():
        if len(values) > 1 or (key in lists and not isinstance(values[0], list)):
            raw[key] = values
        else:
            raw[key] = values[0]
    return validate_params(model, raw).subject()


@audit_app.command("subject")
def subject_command(
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            "-p",
            help="A request parameter, name=value (repeat a name for a list, e.g. prenoms).",
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", "-d", help="The dataset whose params these are.", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 date.", show_default=False)
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Who accessed this person's data, when, for which dataset, under which legal basis.

    The params are those of a request; the journal holds only their keyed pseudonym, which
    this recomputes (needs PARTICULIER_PSEUDONYM_KEY).
    """
    try:
        subject = _subject(_parse_params(param), dataset)
    except ProblemError as exc:
        where = f" ({exc.parameter})" if exc.parameter else ""
        raise typer.BadParameter(f"invalid params{where}: {exc.spec.code}") from None
    key = pseudonym(subject)
    start = instant(since) if since else None
    accesses = _with_conn(
        _app_url(database_url), lambda c: accesses_to_subject(c, key, since=start)
    )
    _print_accesses(accesses, as_json)


@audit_app.command("agency")
def agency_command(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    since: Annotated[str, typer.Option("--since", help="ISO 8601 date (UTC).")],
    until: Annotated[
        str | None, typer.Option("--until", help="ISO 8601 date, exclusive.", show_default=False)
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many rows.", show_default=False)
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """An agency's accesses since a date, for its data protection officer."""
    start, end = instant(since), (instant(until) if until else None)
    accesses = _with_conn(
        _app_url(database_url),
        lambda c: accesses_by_agency(c, name, since=start, until=end, limit=limit),
    )
    _print_accesses(accesses, as_json)


def stats_command(
    days: Annotated[int, typer.Option("--days", help="How many days back.")] = 30,
    since: Annotated[
        str | None,
        typer.Option("--since", help="ISO 8601 date; overrides --days.", show_default=False),
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Requests by dataset and day (UTC): total, answered with data, refused."""
    start = (
        instant(since)
        if since
        else (
            datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            - timedelta(days=days - 1)
        )
    )
    counts = _with_conn(_app_url(database_url), lambda c: daily_counts(c, since=start))
    listing(
        counts,
        as_json,
        {
            "day": lambda c: c.day.isoformat(),
            "dataset": lambda c: c.dataset or "(none)",
            "requests": lambda c: str(c.requests),
            "answered": lambda c: str(c.answered),
            "refused": lambda c: str(c.refused),
        },
    )
