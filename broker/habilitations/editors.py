"""Editors and their delegations in the database (the administrator's connection).

An editor is a software vendor whose one RabbitMQ user acts for many agencies; a delegation,
granted by an operator for an agency, lets it. Revoking one takes effect within the workers'
refresh (2 s), as for habilitations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .admin import validate_user

__all__ = [
    "Delegation",
    "Editor",
    "EditorConflict",
    "create_editor",
    "delegate",
    "list_delegations",
    "list_editors",
    "revoke_delegation",
]


class EditorConflict(ValueError):
    """An editor or agency has this name or RabbitMQ user already, or differs."""


@dataclass(frozen=True)
class Editor:
    id: int
    name: str
    rabbitmq_user: str
    created_at: datetime


@dataclass(frozen=True)
class Delegation:
    id: int
    editor: str
    agency: str
    siret: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


async def create_editor(conn: asyncpg.Connection, name: str, *, user: str) -> Editor:
    """Create the editor, or return it unchanged when it exists with the same attributes. Its
    RabbitMQ user may not be an agency's: a request's requester is one or the other."""
    validate_user(user)
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM agencies WHERE rabbitmq_user = $1", user):
            raise EditorConflict("this RabbitMQ user is an agency's")
        row = await conn.fetchrow(
            "INSERT INTO editors (name, rabbitmq_user) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING *",
            name,
            user,
        )
        if row is None:
            row = await conn.fetchrow(
                "SELECT * FROM editors WHERE name = $1 OR rabbitmq_user = $2", name, user
            )
            if row is None or (row["name"], row["rabbitmq_user"]) != (name, user):
                raise EditorConflict("an editor already has this name or RabbitMQ user")
    return Editor(**dict(row))


async def list_editors(conn: asyncpg.Connection) -> list[Editor]:
    return [Editor(**dict(r)) for r in await conn.fetch("SELECT * FROM editors ORDER BY name")]


_DELEGATIONS = """
SELECT d.id, e.name AS editor, a.name AS agency, a.siret, d.created_at, d.revoked_at
FROM delegations d JOIN editors e ON e.id = d.editor_id JOIN agencies a ON a.id = d.agency_id
"""


async def delegate(conn: asyncpg.Connection, editor: str, agency: str) -> Delegation:
    """Let ``editor`` act for ``agency`` (names); the current delegation when there is one.
    Raises ``LookupError`` naming what does not exist."""
    async with conn.transaction():
        editor_id = await conn.fetchval("SELECT id FROM editors WHERE name = $1", editor)
        agency_id = await conn.fetchval("SELECT id FROM agencies WHERE name = $1", agency)
        if editor_id is None or agency_id is None:
            raise LookupError("editor" if editor_id is None else "agency")
        await conn.execute(
            "INSERT INTO delegations (editor_id, agency_id) VALUES ($1, $2)"
            " ON CONFLICT (editor_id, agency_id) WHERE revoked_at IS NULL DO NOTHING",
            editor_id,
            agency_id,
        )
        row = await conn.fetchrow(
            _DELEGATIONS + " WHERE d.editor_id = $1 AND d.agency_id = $2 AND d.revoked_at IS NULL",
            editor_id,
            agency_id,
        )
    assert row is not None
    return Delegation(**dict(row))


async def revoke_delegation(conn: asyncpg.Connection, editor: str, agency: str) -> bool:
    """Revoke now; False when no such delegation is in force."""
    status = await conn.execute(
        "UPDATE delegations d SET revoked_at = now() FROM editors e, agencies a"
        " WHERE e.id = d.editor_id AND a.id = d.agency_id AND e.name = $1 AND a.name = $2"
        " AND d.revoked_at IS NULL",
        editor,
        agency,
    )
    return bool(status.endswith(" 1"))


async def list_delegations(
    conn: asyncpg.Connection, *, editor: str | None = None, active: bool = False
) -> list[Delegation]:
    rows = await conn.fetch(
        _DELEGATIONS + " WHERE ($1::text IS NULL OR e.name = $1)"
        " AND (NOT $2 OR d.revoked_at IS NULL) ORDER BY e.name, a.name, d.id",
        editor,
        active,
    )
    return [Delegation(**dict(r)) for r in rows]
