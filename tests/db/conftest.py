"""Fixtures of the database tests: a database per session (random name), dropped at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest_asyncio

from broker.db import create_pool

from .support import Database, create_database, drop_database, unique


@pytest_asyncio.fixture(scope="session")
async def database() -> AsyncIterator[Database]:
    db = await create_database()
    try:
        yield db
    finally:
        await drop_database(db)


@pytest_asyncio.fixture(scope="session")
async def admin_pool(database: Database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database.admin_url, max_size=4)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def app_pool(database: Database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database.app_url, max_size=8)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def new_database() -> AsyncIterator[Callable[[], Awaitable[Database]]]:
    """A factory of extra databases (for tests that break the chain), dropped afterwards."""
    made: list[Database] = []

    async def make() -> Database:
        db = await create_database()
        made.append(db)
        return db

    yield make
    for db in made:
        await drop_database(db)


@pytest_asyncio.fixture
async def fresh_database(new_database: Callable[[], Awaitable[Database]]) -> Database:
    """A migrated database of the test's own, for tests that need it empty or break it."""
    return await new_database()


@pytest_asyncio.fixture
async def fresh_pool(fresh_database: Database) -> AsyncIterator[asyncpg.Pool]:
    """An application pool on ``fresh_database``, closed before the database is dropped."""
    pool = await create_pool(fresh_database.app_url)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def unmade_database() -> AsyncIterator[Database]:
    """A database that does not exist yet, for tests of what creates it; dropped afterwards."""
    db = Database(unique("particulier_test_unmade"))
    try:
        yield db
    finally:
        await drop_database(db)
