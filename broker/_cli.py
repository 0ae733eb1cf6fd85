"""What the ``particulier`` commands share: reading dates, printing tables and JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

__all__ = [
    "AdminUrl",
    "AsJson",
    "console",
    "fail",
    "instant",
    "json_default",
    "json_lines",
    "listing",
    "with_admin",
]

T = TypeVar("T")

AsJson = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
AdminUrl = Annotated[
    str | None,
    typer.Option("--admin-url", help="Default PARTICULIER_DATABASE_ADMIN_URL.", show_default=False),
]


def with_admin(admin_url: str | None, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` on one connection as the database's administrator."""
    from .db.settings import DatabaseSettings

    async def run() -> T:
        conn = await asyncpg.connect(admin_url or DatabaseSettings().database_admin_url, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say why on standard error; the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def json_lines(items: Iterable[Any], **extra: Callable[[Any], Any]) -> None:
    """Each dataclass of ``items`` as one JSON line, with ``extra`` fields computed from it."""
    for item in items:
        line = {**asdict(item), **{name: of(item) for name, of in extra.items()}}
        typer.echo(json.dumps(line, default=json_default, ensure_ascii=False))


def listing(
    items: Sequence[T],
    as_json: bool,
    columns: Mapping[str, Callable[[T], str | datetime | None]],
    **extra: Callable[[T], Any],
) -> None:
    """``items`` as JSON lines (each dataclass with ``extra`` fields) or as a table of
    ``columns`` (heading -> cell; a date-time is stamped, nothing is left blank)."""
    if as_json:
        json_lines(items, **extra)
        return
    table = Table(*columns)
    for item in items:
        cells = (of(item) for of in columns.values())
        table.add_row(*(_stamp(c) if isinstance(c, datetime) or c is None else c for c in cells))
    console().print(table)


def _stamp(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def instant(value: str) -> datetime:
    """An ISO 8601 date or date-time given on the command line; naive means UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("an ISO 8601 date or date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def console() -> Console:
    """Wide enough for the tables when the output is piped (rich assumes 80 columns)."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def json_default(value: object) -> str:
    """Dates and date-times as ISO 8601 in ``--json`` output."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
