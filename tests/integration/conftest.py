"""Fixtures of the broker-path tests: agencies made as an operator makes them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from stdnum import luhn

from ..conftest import Services


def new_siret() -> str:
    """A random valid SIRET: both the SIREN and the whole number pass the Luhn check."""
    siren = f"{uuid.uuid4().int % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{uuid.uuid4().int % 10**4:04d}"
    return base + luhn.calc_check_digit(base)


@dataclass
class Agency:
    name: str
    user: str
    url: str


@pytest.fixture
def agency(services: Services) -> Agency:
    """A fresh agency with its own RabbitMQ user, confined to its reply queues."""
    user = f"agency_{uuid.uuid4().hex[:8]}"
    name = f"Mairie {user}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "broker.tooling.cli",
            "agencies",
            "create",
            name,
            "--siret",
            new_siret(),
            "--user",
            user,
            "--password",
            "secret",
            "--vhost",
            services.vhost,
        ],
        check=True,
        capture_output=True,
    )
    host = services.amqp_url.split("@", 1)[1]
    return Agency(name, user, f"amqp://{user}:secret@{host}")


async def grant_scopes(
    services: Services,
    agency: Agency,
    scopes: dict[str, list[str]],
    *,
    rate_interactive: int | None = None,
) -> None:
    """Grant ``agency`` a habilitation to ``scopes`` (dataset -> scopes), as an operator does,
    then wait for the workers' habilitations to refresh (every 2 s)."""

    import asyncpg

    from broker.habilitations import grant

    conn = await asyncpg.connect(services.admin_url)
    try:
        await grant(
            conn,
            agency.name,
            scopes,
            legal_basis="Tarification sociale",
            legal_reference="CASF L123-1",
            rate_interactive=rate_interactive,
        )
    finally:
        await conn.close()
    await asyncio.sleep(2.5)


async def journal_rows(services: Services, message_id: str) -> list[Any]:
    """The journal rows of ``message_id`` (``cached``, ``status``, ``scopes``), oldest first."""
    import asyncpg

    conn = await asyncpg.connect(services.admin_url)
    try:
        return list(
            await conn.fetch(
                "SELECT cached, status, scopes FROM journal WHERE message_id = $1 ORDER BY seq",
                message_id,
            )
        )
    finally:
        await conn.close()
