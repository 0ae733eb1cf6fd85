"""Fixtures of the broker-path tests: agencies made as an operator makes them."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from stdnum import luhn

from broker.simulation import Person, Population

from ..conftest import Services, particulier

DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
POPULATION = Population(1_000_000)


def new_siret() -> str:
    """A random valid SIRET: both the SIREN and the whole number pass the Luhn check."""
    siren = f"{uuid.uuid4().int % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{uuid.uuid4().int % 10**4:04d}"
    return base + luhn.calc_check_digit(base)


def person_on_file(index: int) -> Person:
    """The first person from ``index`` on whom the simulators have a file (``found``)."""
    return next(p for p in map(POPULATION.person, range(index, index + 100)) if p.found)


def person(index: int) -> dict[str, Any]:
    """The params of :func:`person_on_file`."""
    return person_on_file(index).params()


@dataclass
class Account:
    """An agency or an editor: its name, its RabbitMQ user, the AMQP URL it connects with."""

    name: str
    user: str
    url: str


class Agency(Account):
    """An agency, whose RabbitMQ user is confined to its reply queues."""


def create_account(services: Services, kind: str, name: str, user: str, *options: str) -> str:
    """Create an account of ``kind`` (``agencies`` or ``editors``) with its own RabbitMQ user,
    as an operator does; return the AMQP URL it connects with."""
    made = particulier(
        kind, "create", name, "--user", user, "--password", "secret", "--vhost", services.vhost,
        *options,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    host = services.amqp_url.split("@", 1)[1]
    return f"amqp://{user}:secret@{host}"


@pytest.fixture
def agency(services: Services) -> Agency:
    """A fresh agency with its own RabbitMQ user, confined to its reply queues."""
    user = f"agency_{uuid.uuid4().hex[:8]}"
    name = f"Mairie {user}"
    url = create_account(services, "agencies", name, user, "--siret", new_siret())
    return Agency(name, user, url)


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
