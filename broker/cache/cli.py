"""``particulier cache``: what the reply cache holds, and purging it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.table import Table

from .._cli import console
from ..db.settings import DatabaseSettings
from ._store import ReplyCache

__all__ = ["cache_app"]

T = TypeVar("T")

cache_app = typer.Typer(no_args_is_help=True, help="The reply cache: its rows, and purging them.")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Default PARTICULIER_DATABASE_URL.", show_default=False),
]


def _with_cache(url: str | None, work: Callable[[ReplyCache], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await asyncpg.create_pool(
            url or DatabaseSettings().database_url, min_size=1, max_size=1, timeout=10
        )
        try:
            return await work(ReplyCache(pool))
        finally:
            await pool.close()

    return asyncio.run(run())


@cache_app.command("purge")
def purge_command(
    provider: Annotated[str | None, typer.Option(help="Only this provider's rows.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset's rows.")] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Only expired rows (and those past the bound).")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Drop cached answers: every one, a provider's or a dataset's (after a provider corrected
    its records, say); the next requests ask the provider again."""
    if expired and (provider or dataset):
        raise typer.BadParameter("--expired drops expired rows of every dataset")
    if expired:
        dropped = _with_cache(database_url, lambda c: c.trim())
    else:
        dropped = _with_cache(database_url, lambda c: c.purge(provider=provider, dataset=dataset))
    typer.echo(f"{dropped} cached answers dropped")


@cache_app.command("stats")
def stats_command(database_url: DatabaseUrl = None) -> None:
    """Rows kept and expired, per dataset."""
    rows = _with_cache(database_url, lambda c: c.stats())
    table = Table("dataset", "kept", "expired")
    for dataset, kept, expired in rows:
        table.add_row(dataset, str(kept), str(expired))
    console().print(table)
