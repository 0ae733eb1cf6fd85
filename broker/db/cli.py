"""``particulier db``: the database's schema."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from .migrate import migrate

__all__ = ["db_app"]

db_app = typer.Typer(no_args_is_help=True, help="The PostgreSQL database: schema and roles.")


@db_app.callback()
def _db() -> None:
    """The PostgreSQL database: schema and roles."""


@db_app.command("migrate")
def migrate_command(
    admin_url: Annotated[
        str | None,
        typer.Option(
            "--admin-url",
            help="Administrator URL; default PARTICULIER_DATABASE_ADMIN_URL.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create the database, roles, tables and partitions; apply pending migrations.

    Idempotent: rerunning applies only what is missing and creates the coming months'
    partitions. The application role (the user of PARTICULIER_DATABASE_URL) may only read
    habilitations and INSERT/SELECT the journal.
    """
    applied = asyncio.run(migrate(admin_url))
    if applied:
        for name in applied:
            typer.echo(f"applied {name}")
    else:
        typer.echo("database up to date")
