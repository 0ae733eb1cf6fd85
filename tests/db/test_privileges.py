"""The application role may only INSERT and SELECT the journal."""

from __future__ import annotations

import asyncpg
import pytest

from .support import Database

_ROW = """
INSERT INTO journal (seq, recorded_at, at, message_id, requester, lane, scopes, status, cached,
                     reply_digest, prev_hash, hash)
VALUES (-1, now(), now(), 'privilege-test', 'guest', 'interactive', '{}', 200, false, 'x',
        '\\x00', '\\x00')
"""


async def _refused(conn: asyncpg.Connection, statement: str) -> None:
    async with conn.transaction():
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)


async def test_app_role_inserts_and_selects_only(database: Database) -> None:
    conn = await asyncpg.connect(database.app_url)
    try:
        assert await conn.fetchval("SELECT current_user") == "particulier_app"
        tx = conn.transaction()
        await tx.start()
        await conn.execute(_ROW)
        assert (
            await conn.fetchval("SELECT count(*) FROM journal WHERE message_id = 'privilege-test'")
            == 1
        )
        await tx.rollback()

        await _refused(conn, "UPDATE journal SET status = 500")
        await _refused(conn, "DELETE FROM journal")
        await _refused(conn, "TRUNCATE journal")
        partition = await conn.fetchval(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'journal'::regclass LIMIT 1"
        )
        await _refused(conn, f'DELETE FROM "{partition}"')
        await _refused(conn, f'UPDATE "{partition}" SET status = 500')
        await _refused(conn, f'TRUNCATE "{partition}"')
        await _refused(conn, f'DROP TABLE "{partition}"')
        await _refused(conn, "UPDATE journal_anchor SET seq = 5")
        await _refused(conn, "UPDATE habilitations SET revoked_at = NULL")
        await _refused(conn, "DELETE FROM replies")
    finally:
        await conn.close()
