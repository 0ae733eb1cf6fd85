"""Helpers of the database tests.

Everything runs against the real PostgreSQL of ``PARTICULIER_TEST_POSTGRES`` (default the
local server, superuser ``postgres``); the application role is ``particulier_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg

from broker.db import migrate
from broker.journal import JournalEntry, reply_digest

SERVER = os.environ.get("PARTICULIER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
APP_USER = "particulier_app"
JOURNAL_KEY = b"test journal key: 32 bytes long!"
PSEUDONYM_KEY = b"test pseudonym key, 32 bytes ok!"


@dataclass(frozen=True)
class Database:
    name: str

    @property
    def admin_url(self) -> str:
        return f"{SERVER.rstrip('/')}/{self.name}"

    @property
    def app_url(self) -> str:
        parts = urlsplit(SERVER)
        return f"postgresql://{APP_USER}@{parts.hostname}:{parts.port or 5432}/{self.name}"


async def create_database() -> Database:
    db = Database(f"particulier_test_{secrets.token_hex(5)}")
    await migrate(db.admin_url, app_url=db.app_url)
    return db


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection to ``url``, closed on leaving whatever happened."""
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def drop_database(db: Database) -> None:
    async with connected(f"{SERVER.rstrip('/')}/postgres") as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def entry(index: int = 0, **changes: object) -> JournalEntry:
    values: dict[str, object] = {
        "at": datetime.now(UTC),
        "message_id": f"msg-{index}-{secrets.token_hex(4)}",
        "correlation_id": f"corr-{index}",
        "requester": "guest",
        "agency": "Démo",
        "habilitation_id": 1,
        "recipient": "13002526500013",
        "dataset": "cnav.quotient_familial",
        "version": 3,
        "lane": "interactive",
        "scopes": ("cnaf_quotient_familial", "cnaf_allocataires"),
        "status": 200,
        "error_code": None,
        "upstream_latency_ms": 12.5,
        "cached": False,
        "reply_digest": reply_digest(b"reply %d" % index),
        "subject": "0" * 64,
    }
    values.update(changes)
    return JournalEntry(**values)  # type: ignore[arg-type]


class Proxy:
    """A TCP relay (to PostgreSQL unless told otherwise) that the test can cut and restore,
    an outage on demand, or freeze and thaw: a peer gone silent, its connections still open."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    def freeze(self) -> None:
        """Forward nothing more, either way, until :meth:`thaw`."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    await self._flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._links.difference_update((writer, up_writer))
