"""Managing agencies and habilitations in the database (the administrator's connection)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from stdnum.fr import siret as siret_number

from ..config import DEMO_FRANCE_CONNECT_CLIENT
from ..kit import Dataset
from ..sdk.contract import Mode

__all__ = [
    "DEFAULT_INTERACTIVE_RATE",
    "DEMO_AGENCY",
    "DEMO_LEGAL_REFERENCE",
    "DEMO_SIRET",
    "DEMO_USER",
    "Agency",
    "AgencyConflict",
    "DemoSeed",
    "HabilitationInfo",
    "create_agency",
    "grant",
    "list_agencies",
    "list_habilitations",
    "resolve_scopes",
    "revoke",
    "seed_demo",
    "validate_siret",
    "validate_user",
]

DEFAULT_INTERACTIVE_RATE = 20.0
"""Requests per second on the interactive lane unless a habilitation says otherwise."""

DEMO_AGENCY = "Démo"
DEMO_USER = "guest"
DEMO_SIRET = "13002526500013"
DEMO_LEGAL_BASIS = "Démonstration et développement : données de test uniquement"
DEMO_LEGAL_REFERENCE = "demo"

_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class AgencyConflict(ValueError):
    """An agency exists with this name or RabbitMQ user but different attributes."""


def validate_siret(value: str) -> str:
    """The SIRET without spaces; ``ValueError`` unless valid (Luhn, 14 digits)."""
    compact = siret_number.compact(value)
    if not siret_number.is_valid(compact):
        raise ValueError("not a valid SIRET")
    return compact


def validate_user(value: str) -> str:
    """RabbitMQ logins of agencies: letters, digits, ``_`` and ``-``.

    No dot: reply queues are named ``reply.<user>.<...>`` and the permission regexes match that
    prefix, so a dot would let user ``a`` reach the queues of user ``a.b``.
    """
    if not _USER.match(value):
        raise ValueError("a RabbitMQ user of an agency may hold only letters, digits, _ and -")
    return value


@dataclass(frozen=True)
class Agency:
    id: int
    name: str
    siret: str
    rabbitmq_user: str
    created_at: datetime


async def create_agency(conn: asyncpg.Connection, name: str, *, siret: str, user: str) -> Agency:
    """Create the agency, or return it unchanged when it exists with the same attributes."""
    siret = validate_siret(siret)
    validate_user(user)
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM editors WHERE rabbitmq_user = $1", user):
            raise AgencyConflict("this RabbitMQ user is an editor's")
        row = await conn.fetchrow(
            """INSERT INTO agencies (name, siret, rabbitmq_user) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING RETURNING *""",
            name,
            siret,
            user,
        )
        if row is None:
            row = await conn.fetchrow(
                "SELECT * FROM agencies WHERE name = $1 OR rabbitmq_user = $2", name, user
            )
            if row is None or (row["name"], row["siret"], row["rabbitmq_user"]) != (
                name,
                siret,
                user,
            ):
                raise AgencyConflict("an agency already has this name or RabbitMQ user")
    return Agency(**dict(row))


async def list_agencies(conn: asyncpg.Connection) -> list[Agency]:
    return [Agency(**dict(r)) for r in await conn.fetch("SELECT * FROM agencies ORDER BY name")]


@dataclass(frozen=True)
class HabilitationInfo:
    id: int
    agency: str
    legal_basis: str
    legal_reference: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    rate_interactive: float | None
    rate_bulk: float | None
    scopes: Mapping[str, tuple[str, ...]]
    active: bool
    modes: tuple[str, ...] = (Mode.IDENTITY.value,)


def resolve_scopes(
    datasets: Sequence[str],
    scopes: Sequence[str],
    *,
    all_scopes: bool,
    known: Mapping[str, Collection[str]],
    unchecked: bool = False,
) -> dict[str, set[str]]:
    """Which (dataset, scope) pairs a grant asks for, checked against the declarations.

    ``known`` maps each declared dataset to its scopes. A scope is granted on every listed
    dataset that declares it; ``unchecked`` accepts datasets not (yet) declared, granting the
    given scopes on each.
    """
    if not datasets:
        raise ValueError("name at least one dataset")
    if all_scopes == bool(scopes):
        raise ValueError("give either scopes or all scopes")
    result: dict[str, set[str]] = {}
    for dataset in datasets:
        declared = known.get(dataset)
        if declared is None:
            if not unchecked:
                raise ValueError(f"unknown dataset {dataset}")
            if all_scopes:
                raise ValueError(f"the scopes of {dataset} are unknown: list them")
            result[dataset] = set(scopes)
            continue
        result[dataset] = set(declared) if all_scopes else set(scopes) & set(declared)
    granted = {s for found in result.values() for s in found}
    missing = [s for s in scopes if s not in granted]
    if missing:
        raise ValueError(f"scopes not declared by these datasets: {', '.join(sorted(missing))}")
    return {d: s for d, s in result.items() if s}


async def grant(
    conn: asyncpg.Connection,
    agency: str,
    scopes: Mapping[str, Collection[str]],
    *,
    legal_basis: str,
    legal_reference: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    rate_interactive: float | None = DEFAULT_INTERACTIVE_RATE,
    rate_bulk: float | None = None,
    modes: Collection[Mode] = (Mode.IDENTITY,),
) -> int:
    """Create a habilitation of ``agency`` on ``scopes`` (dataset -> scopes); its id.

    A rate of ``None`` means unlimited on that lane; ``modes`` are the ways requests may name
    the person (FranceConnect mode also needs the agency's FranceConnect clients registered).
    """
    pairs = [(d, s) for d, found in scopes.items() for s in sorted(found)]
    if not pairs:
        raise ValueError("a habilitation grants at least one scope")
    for rate in (rate_interactive, rate_bulk):
        if rate is not None and rate <= 0:
            raise ValueError("a rate limit is a positive number of requests per second")
    if not modes:
        raise ValueError("a habilitation allows at least one mode")
    async with conn.transaction():
        agency_id = await conn.fetchval("SELECT id FROM agencies WHERE name = $1", agency)
        if agency_id is None:
            raise LookupError("unknown agency")
        habilitation_id: int = await conn.fetchval(
            """INSERT INTO habilitations (agency_id, legal_basis, legal_reference, valid_from,
                                          valid_until, rate_interactive, rate_bulk, modes)
               VALUES ($1, $2, $3, coalesce($4, now()), $5, $6, $7, $8) RETURNING id""",
            agency_id,
            legal_basis,
            legal_reference,
            valid_from,
            valid_until,
            rate_interactive,
            rate_bulk,
            sorted({Mode(m).value for m in modes}),
        )
        await conn.executemany(
            "INSERT INTO habilitation_scopes (habilitation_id, dataset, scope) VALUES ($1, $2, $3)",
            [(habilitation_id, d, s) for d, s in pairs],
        )
    return habilitation_id


async def add_france_connect_client(conn: asyncpg.Connection, agency: str, client_id: str) -> None:
    """Register a FranceConnect client of ``agency``: tokens it obtains may be presented by
    this agency, and by no other. Raises :class:`AgencyConflict` when another agency has it."""
    client_id = client_id.strip()
    if not client_id:
        raise ValueError("a FranceConnect client id is not empty")
    async with conn.transaction():
        agency_id = await conn.fetchval("SELECT id FROM agencies WHERE name = $1", agency)
        if agency_id is None:
            raise LookupError("unknown agency")
        holder = await conn.fetchval(
            """INSERT INTO france_connect_clients (client_id, agency_id) VALUES ($1, $2)
               ON CONFLICT (client_id) DO UPDATE SET client_id = excluded.client_id
               RETURNING agency_id""",
            client_id,
            agency_id,
        )
        if holder != agency_id:
            raise AgencyConflict("this FranceConnect client belongs to another agency")


async def remove_france_connect_client(conn: asyncpg.Connection, client_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM france_connect_clients WHERE client_id = $1", client_id.strip()
    )
    return bool(status.endswith(" 1"))


async def list_france_connect_clients(
    conn: asyncpg.Connection, *, agency: str | None = None
) -> list[tuple[str, str]]:
    """(agency name, client id) pairs, by agency."""
    rows = await conn.fetch(
        """SELECT a.name, c.client_id FROM france_connect_clients c
           JOIN agencies a ON a.id = c.agency_id
           WHERE ($1::text IS NULL OR a.name = $1) ORDER BY a.name, c.client_id""",
        agency,
    )
    return [(r["name"], r["client_id"]) for r in rows]


async def revoke(conn: asyncpg.Connection, habilitation_id: int) -> bool:
    """Revoke now; False when no such habilitation is in force."""
    status = await conn.execute(
        "UPDATE habilitations SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        habilitation_id,
    )
    return bool(status.endswith(" 1"))


async def list_habilitations(
    conn: asyncpg.Connection, *, agency: str | None = None, include_inactive: bool = False
) -> list[HabilitationInfo]:
    rows = await conn.fetch(
        """SELECT h.id, a.name AS agency, h.legal_basis, h.legal_reference, h.valid_from,
                  h.valid_until, h.revoked_at, h.rate_interactive, h.rate_bulk, h.modes,
                  (h.revoked_at IS NULL AND h.valid_from <= now()
                   AND (h.valid_until IS NULL OR h.valid_until > now())) AS active,
                  coalesce(array_agg(s.dataset ORDER BY s.dataset, s.scope)
                           FILTER (WHERE s.dataset IS NOT NULL), '{}') AS datasets,
                  coalesce(array_agg(s.scope ORDER BY s.dataset, s.scope)
                           FILTER (WHERE s.dataset IS NOT NULL), '{}') AS scope_names
           FROM habilitations h
           JOIN agencies a ON a.id = h.agency_id
           LEFT JOIN habilitation_scopes s ON s.habilitation_id = h.id
           WHERE ($1::text IS NULL OR a.name = $1)
           GROUP BY h.id, a.name
           ORDER BY a.name, h.id""",
        agency,
    )
    found: list[HabilitationInfo] = []
    for row in rows:
        if not include_inactive and not row["active"]:
            continue
        scopes: dict[str, list[str]] = {}
        for dataset, scope in zip(row["datasets"], row["scope_names"], strict=True):
            scopes.setdefault(dataset, []).append(scope)
        values = {k: v for k, v in row.items() if k not in ("datasets", "scope_names")}
        values["modes"] = tuple(values["modes"])
        found.append(HabilitationInfo(**values, scopes={d: tuple(s) for d, s in scopes.items()}))
    return found


@dataclass(frozen=True)
class DemoSeed:
    habilitation_id: int
    added: int
    """(dataset, scope) pairs granted by this run."""


async def seed_demo(conn: asyncpg.Connection, datasets: Iterable[Dataset]) -> DemoSeed:
    """The demo agency bound to ``guest``, holding every scope of ``datasets``, no rate limit.

    Idempotent: a rerun after new datasets were declared grants them too.
    """
    pairs = sorted({(d.id, s) for d in datasets for s in d.scopes})
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('particulier seed-demo'))")
        agency = await create_agency(conn, DEMO_AGENCY, siret=DEMO_SIRET, user=DEMO_USER)
        habilitation_id = await conn.fetchval(
            """SELECT id FROM habilitations
               WHERE agency_id = $1 AND legal_reference = $2 AND revoked_at IS NULL
                 AND valid_until IS NULL
               ORDER BY id LIMIT 1""",
            agency.id,
            DEMO_LEGAL_REFERENCE,
        )
        if habilitation_id is None:
            habilitation_id = await conn.fetchval(
                """INSERT INTO habilitations (agency_id, legal_basis, legal_reference,
                                              rate_interactive, rate_bulk, modes)
                   VALUES ($1, $2, $3, NULL, NULL, '{identity,france_connect}') RETURNING id""",
                agency.id,
                DEMO_LEGAL_BASIS,
                DEMO_LEGAL_REFERENCE,
            )
        added = await conn.fetchval(
            """WITH added AS (
                   INSERT INTO habilitation_scopes (habilitation_id, dataset, scope)
                   SELECT $1, d, s FROM unnest($2::text[], $3::text[]) AS u(d, s)
                   ON CONFLICT DO NOTHING RETURNING 1)
               SELECT count(*) FROM added""",
            habilitation_id,
            [d for d, _ in pairs],
            [s for _, s in pairs],
        )
        await conn.execute(
            "UPDATE habilitations SET modes = '{identity,france_connect}' WHERE id = $1",
            habilitation_id,
        )
        await conn.execute(
            """INSERT INTO france_connect_clients (client_id, agency_id) VALUES ($1, $2)
               ON CONFLICT (client_id) DO NOTHING""",
            DEMO_FRANCE_CONNECT_CLIENT,
            agency.id,
        )
    return DemoSeed(habilitation_id=int(habilitation_id), added=int(added))
