"""Connection pools, and telling an unreachable server from a faulty statement."""

from __future__ import annotations

from typing import Any

import asyncpg

# asyncpg has two ``DataError``s: SQLSTATE class 22 (a PostgresError) and this one, raised
# before anything is sent, for a value it cannot encode for its column.
from asyncpg.exceptions._base import DataError as ArgumentError

from .settings import DatabaseSettings

__all__ = ["ArgumentError", "create_pool", "is_unavailable"]

_OUTAGE_CLASSES = frozenset({"08", "40", "53", "55", "57", "58"})
"""SQLSTATE classes where the same statement may succeed later: connection exception,
transaction rollback, insufficient resources, object not in prerequisite state (a lock),
operator intervention (shutdown, cancel) and system error. Any other class is PostgreSQL
refusing the statement for what it says."""


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means "the server cannot be reached now", so retrying later helps.

    Everything that breaks the connection counts: the OS's errors, timeouts, and asyncpg's
    ``InterfaceError`` and ``InternalClientError``, which it raises when the server goes away
    in the middle of a statement. Only a value the client cannot encode and a refusal by the
    server (outside :data:`_OUTAGE_CLASSES`) are the request's own fault.
    """
    if isinstance(exc, ArgumentError):
        return False
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] in _OUTAGE_CLASSES
    return isinstance(
        exc, OSError | TimeoutError | asyncpg.InterfaceError | asyncpg.InternalClientError
    )


async def create_pool(url: str | None = None, **kw: Any) -> asyncpg.Pool:
    """A pool on ``url`` (default ``PARTICULIER_DATABASE_URL``).

    Connection attempts and statements are bounded so that an outage is reported in seconds,
    not after the operating system's TCP timeout.
    """
    options: dict[str, Any] = {
        "min_size": 1,
        "max_size": 10,
        "timeout": 5.0,
        "command_timeout": 30.0,
        "server_settings": {"application_name": "particulier"},
    }
    options.update(kw)
    return await asyncpg.create_pool(url or DatabaseSettings().database_url, **options)
