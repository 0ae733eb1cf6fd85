"""Migrations: idempotent, concurrent-safe, and they refuse an edited migration."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from broker.db import MigrationError, migrate
from broker.db.migrate import migration_files
from broker.journal.entry import ENTRY_TYPES

from .support import Database, connected


async def test_rerun_applies_nothing(database: Database, admin_pool: asyncpg.Pool) -> None:
    assert await migrate(database.admin_url, app_url=database.app_url) == []
    names = [
        r["name"]
        for r in await admin_pool.fetch("SELECT name FROM schema_migrations ORDER BY name")
    ]
    assert names == [m.name for m in migration_files()]


async def test_creates_database_and_partitions_ahead(fresh_database: Database) -> None:
    async with connected(fresh_database.admin_url) as conn:
        journal_parts = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'journal'::regclass"
        )
        reply_parts = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'replies'::regclass"
        )
        member = await conn.fetchval(
            "SELECT pg_has_role('particulier_app', 'particulier_application', 'MEMBER')"
        )
    assert journal_parts >= 4  # this month and the next three
    assert reply_parts >= 8  # today and the next seven days
    assert member


async def test_concurrent_runs_apply_each_migration_once(unmade_database: Database) -> None:
    db = unmade_database
    results = await asyncio.gather(*(migrate(db.admin_url, app_url=db.app_url) for _ in range(3)))
    applied = sorted(name for names in results for name in names)
    assert applied == sorted(m.name for m in migration_files())


async def test_edited_migration_is_refused(fresh_database: Database) -> None:
    async with connected(fresh_database.admin_url) as conn:
        await conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE name LIKE '0001%'")
    with pytest.raises(MigrationError):
        await migrate(fresh_database.admin_url, app_url=fresh_database.app_url)


async def test_the_journal_table_has_the_entrys_columns_and_types(
    database: Database, admin_pool: asyncpg.Pool
) -> None:
    """The migration is the one copy of the journal's columns that cannot derive from
    :class:`JournalEntry`: this holds it to the entry (names and SQL types)."""
    rows = await admin_pool.fetch(
        "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
        "WHERE attrelid = 'journal'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )
    table = {r["attname"]: r["type"] for r in rows}
    expected = {
        "seq": "bigint",
        "recorded_at": "timestamp with time zone",
        **ENTRY_TYPES,
        "prev_hash": "bytea",
        "hash": "bytea",
    }
    assert table == expected  # columns added later come after prev_hash: the order is free
