"""The migration runner: plain SQL files in ``migrations/``, applied once each, in name order.

It also creates what SQL files cannot name in advance: the database itself, the application's
login role (taken from ``PARTICULIER_DATABASE_URL``) and the partitions of the coming months.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from .settings import DatabaseSettings

__all__ = [
    "APP_GROUP_ROLE",
    "MigrationError",
    "ensure_partitions_ahead",
    "migrate",
    "migration_files",
]

log = logging.getLogger(__name__)

APP_GROUP_ROLE = "particulier_application"
"""The role the SQL files grant privileges to; the application's login role is a member."""

_LOCK_KEY = 0x7061727469636C  # serialises concurrent migrate runs on one database
_MONTHS_AHEAD = 3
_DAYS_AHEAD = 7


class MigrationError(RuntimeError):
    """A migration cannot be applied (e.g. an applied file was edited afterwards)."""


@dataclass(frozen=True)
class _Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migration_files() -> list[_Migration]:
    """Every ``*.sql`` file of ``broker/db/migrations``, in name order."""
    folder = resources.files(__package__ or "broker.db").joinpath("migrations")
    found = [
        _Migration(entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found, key=lambda m: m.name)


def _database_of(url: str) -> str:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    return name or unquote(parts.username or "postgres")


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def _ensure_database(admin_url: str) -> None:
    try:
        conn = await asyncpg.connect(admin_url, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return
    name = _database_of(admin_url)
    maintenance = await asyncpg.connect(_with_database(admin_url, "postgres"), timeout=10)
    try:
        statement = await maintenance.fetchval(
            "SELECT format('CREATE DATABASE %I', $1::text)", name
        )
        # a concurrent migrate may create it meanwhile
        with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            await maintenance.execute(statement)
            log.info("created database %s", name)
    finally:
        await maintenance.close()


async def _create_role(conn: asyncpg.Connection, name: str, options: str) -> None:
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
        return
    statement = await conn.fetchval(f"SELECT format('CREATE ROLE %I {options}', $1::text)", name)
    # another database's migrate may create it meanwhile: roles are cluster-wide
    with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        await conn.execute(statement)


async def _ensure_roles(conn: asyncpg.Connection, app_url: str) -> None:
    await _create_role(conn, APP_GROUP_ROLE, "NOLOGIN")
    parts = urlsplit(app_url)
    login = unquote(parts.username or "particulier_app")
    current = await conn.fetchval("SELECT current_user")
    if login == current:
        log.warning(
            "the application connects as the administrator: its privileges are not "
            "restricted to appending to the journal"
        )
        return
    await _create_role(conn, login, "LOGIN")
    if await conn.fetchval(
        "SELECT NOT pg_has_role($1::text, $2::text, 'MEMBER')", login, APP_GROUP_ROLE
    ):
        await conn.execute(
            await conn.fetchval(
                "SELECT format('GRANT %I TO %I', $1::text, $2::text)", APP_GROUP_ROLE, login
            )
        )
    if parts.password:
        await conn.execute(
            await conn.fetchval(
                "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                login,
                unquote(parts.password),
            )
        )


async def _apply(conn: asyncpg.Connection) -> list[str]:
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name text PRIMARY KEY,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    done = {
        r["name"]: r["checksum"]
        for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
    }
    applied: list[str] = []
    for migration in migration_files():
        if migration.name in done:
            if done[migration.name] != migration.checksum:
                raise MigrationError(f"{migration.name} was edited after it was applied")
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                migration.name,
                migration.checksum,
            )
        log.info("applied migration %s", migration.name)
        applied.append(migration.name)
    return applied


async def ensure_partitions_ahead(conn: asyncpg.Connection) -> None:
    """Journal partitions for this month and the next ones, reply partitions for the week."""
    await conn.execute(
        """SELECT particulier_ensure_journal_partition(now() + make_interval(months => m))
           FROM generate_series(0, $1::int) AS m""",
        _MONTHS_AHEAD,
    )
    await conn.execute(
        """SELECT particulier_ensure_reply_partition(now() + make_interval(days => d))
           FROM generate_series(0, $1::int) AS d""",
        _DAYS_AHEAD,
    )


async def migrate(admin_url: str | None = None, *, app_url: str | None = None) -> list[str]:
    """Bring the database up to date; safe to run any number of times, concurrently too.

    Returns the names of the migrations applied by this run (empty when already current).
    """
    settings = DatabaseSettings()
    admin = admin_url or settings.database_admin_url
    app = app_url or settings.database_url
    await _ensure_database(admin)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await _ensure_roles(conn, app)
            applied = await _apply(conn)
            await ensure_partitions_ahead(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()
    return applied
