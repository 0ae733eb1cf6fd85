"""What the ``particulier`` commands share: reading dates, printing tables and JSON."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import typer
from rich.console import Console

__all__ = ["console", "instant", "json_default"]


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
