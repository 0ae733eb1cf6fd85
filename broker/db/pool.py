"""Connection pools, and telling an unreachable server from a faulty statement."""

from __future__ import annotations

from typing import Any

import asyncpg

from .settings import DatabaseSettings

__all__ = ["create_pool", "is_unavailable"]

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means "the server cannot be reached now", so retrying later helps."""
    if isinstance(exc, asyncpg.DataError):
        return False
    return isinstance(exc, _UNAVAILABLE)


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
