"""Telling a PostgreSQL outage (the request waits) from a refused row (dead-lettered)."""

from __future__ import annotations

import asyncpg
import pytest

from broker.db import is_unavailable
from broker.db.pool import ArgumentError

OUTAGES = [
    ConnectionResetError(104, "reset"),
    ConnectionRefusedError(111, "refused"),
    TimeoutError(),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InternalClientError("unexpected connection_lost() call"),
    asyncpg.ConnectionDoesNotExistError("gone"),
    asyncpg.CannotConnectNowError("starting up"),
    asyncpg.AdminShutdownError("shutting down"),
    asyncpg.CrashShutdownError("crash"),
    asyncpg.TooManyConnectionsError("too many"),
    asyncpg.SerializationError("retry"),
    asyncpg.DeadlockDetectedError("deadlock"),
    asyncpg.LockNotAvailableError("lock"),
    asyncpg.QueryCanceledError("statement timeout"),
    asyncpg.DiskFullError("disk full"),
]
REFUSALS = [
    ArgumentError("invalid input for query argument $3"),
    asyncpg.DataError("22P02"),
    asyncpg.StringDataRightTruncationError("too long"),
    asyncpg.UniqueViolationError("duplicate"),
    asyncpg.CheckViolationError("no partition"),
    asyncpg.UndefinedTableError("no table"),
    asyncpg.InsufficientPrivilegeError("denied"),
]


@pytest.mark.parametrize("exc", OUTAGES, ids=lambda e: type(e).__name__)
def test_connection_failures_are_outages(exc: BaseException) -> None:
    assert is_unavailable(exc)


@pytest.mark.parametrize("exc", REFUSALS, ids=lambda e: type(e).__name__)
def test_statements_refused_for_their_content_are_not(exc: BaseException) -> None:
    assert not is_unavailable(exc)
