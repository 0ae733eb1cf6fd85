"""The typer commands, end to end against a fresh database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import pytest
import typer
from typer.testing import CliRunner, Result

from broker import registry
from broker.db import create_pool
from broker.db.cli import db_app
from broker.habilitations.cli import agencies_app, habilitations_app
from broker.journal import Journal, journal_key, pseudonym, pseudonym_key
from broker.journal.cli import audit_app, stats_command
from broker.kit import validate_params

from .support import JOURNAL_KEY, PSEUDONYM_KEY, Database, entry

app = typer.Typer()
app.add_typer(db_app, name="db")
app.add_typer(agencies_app, name="agencies")
app.add_typer(habilitations_app, name="habilitations")
app.add_typer(audit_app, name="audit")
app.command("stats")(stats_command)


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    journal_key.cache_clear()
    pseudonym_key.cache_clear()
    yield
    journal_key.cache_clear()
    pseudonym_key.cache_clear()


async def _cli(db: Database, *args: str) -> Result:
    env = {
        "PARTICULIER_DATABASE_URL": db.app_url,
        "PARTICULIER_DATABASE_ADMIN_URL": db.admin_url,
        "PARTICULIER_JOURNAL_KEY": JOURNAL_KEY.decode(),
        "PARTICULIER_PSEUDONYM_KEY": PSEUDONYM_KEY.decode(),
    }
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


async def test_help_of_every_command(database: Database) -> None:
    for command in (
        ["db", "migrate"],
        ["agencies", "create"],
        ["agencies", "list"],
        ["habilitations", "grant"],
        ["habilitations", "revoke"],
        ["habilitations", "list"],
        ["habilitations", "seed-demo"],
        ["audit", "verify"],
        ["audit", "purge"],
        ["audit", "subject"],
        ["audit", "agency"],
        ["stats"],
    ):
        assert "--help" in _ok(await _cli(database, *command, "--help"))


async def test_migrate_creates_a_missing_database(unmade_database: Database) -> None:
    migrated = await _cli(unmade_database, "db", "migrate")
    assert "applied 0001_habilitations.sql" in _ok(migrated)
    assert "up to date" in _ok(await _cli(unmade_database, "db", "migrate"))


async def test_agencies_and_habilitations(fresh_database: Database) -> None:
    db = fresh_database
    _ok(
        await _cli(
            db,
            "agencies",
            "create",
            "Mairie de Test",
            "--siret",
            "216 901 231 00011",
            "--user",
            "mairie-test",
            "--no-rabbitmq",
        )
    )
    refused = await _cli(
        db,
        "agencies",
        "create",
        "Mairie de Test",
        "--siret",
        "12345678901234",
        "--user",
        "mairie-test",
        "--no-rabbitmq",
    )
    assert refused.exit_code != 0
    agencies = [
        json.loads(line) for line in _ok(await _cli(db, "agencies", "list", "--json")).splitlines()
    ]
    assert [(a["name"], a["siret"]) for a in agencies] == [("Mairie de Test", "21690123100011")]
    assert "Mairie de Test" in _ok(await _cli(db, "agencies", "list"))

    granted = _ok(
        await _cli(
            db,
            "habilitations",
            "grant",
            "Mairie de Test",
            "--dataset",
            "cnav.quotient_familial",
            "--scope",
            "cnaf_quotient_familial",
            "--legal-basis",
            "Tarifs de la cantine",
            "--legal-reference",
            "CASF L.123-1",
            "--rate-bulk",
            "50",
            "--until",
            "2099-01-01",
            "--unchecked",
        )
    )
    habilitation_id = granted.strip().splitlines()[-1]
    listed = [
        json.loads(line)
        for line in _ok(
            await _cli(db, "habilitations", "list", "--agency", "Mairie de Test", "--json")
        ).splitlines()
    ]
    assert listed[0]["scopes"] == {"cnav.quotient_familial": ["cnaf_quotient_familial"]}
    assert listed[0]["legal_basis"] == "Tarifs de la cantine"
    assert listed[0]["rate_interactive"] == 20 and listed[0]["rate_bulk"] == 50
    assert "Mairie de Test" in _ok(await _cli(db, "habilitations", "list"))
    unknown = await _cli(
        db,
        "habilitations",
        "grant",
        "Mairie de Test",
        "--dataset",
        "x.y",
        "--scope",
        "s",
        "--legal-basis",
        "b",
        "--legal-reference",
        "r",
    )
    assert unknown.exit_code != 0
    _ok(await _cli(db, "habilitations", "revoke", habilitation_id))
    assert (await _cli(db, "habilitations", "revoke", habilitation_id)).exit_code == 1
    assert not _ok(
        await _cli(db, "habilitations", "list", "--agency", "Mairie de Test", "--json")
    ).strip()

    _ok(await _cli(db, "habilitations", "seed-demo"))
    assert "0 scope(s) added" in _ok(await _cli(db, "habilitations", "seed-demo"))
    conn = await asyncpg.connect(db.admin_url)
    try:
        granted_pairs = await conn.fetchval(
            "SELECT count(*) FROM habilitation_scopes s JOIN habilitations h "
            "ON h.id = s.habilitation_id JOIN agencies a ON a.id = h.agency_id "
            "WHERE a.rabbitmq_user = 'guest'"
        )
    finally:
        await conn.close()
    assert granted_pairs == len({(d.id, s) for d in registry.datasets() for s in d.scopes})


def _as_cli_params(params: dict[str, Any]) -> Sequence[str]:
    args: list[str] = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            args += ["--param", f"{name}={item}"]
    return args


async def test_audit_commands(fresh_database: Database) -> None:
    db = fresh_database
    declared = registry.dataset("cnav.quotient_familial")
    if declared is None:
        pytest.skip("cnav.quotient_familial is not declared")
    params = dict(declared.example_params)
    subject = pseudonym(validate_params(declared.params, params).subject(), key=PSEUDONYM_KEY)
    pool = await create_pool(db.app_url)
    try:
        async with Journal(pool, key=JOURNAL_KEY) as journal:
            await journal.record(entry(1, agency="Mairie", subject=subject), b"r")
            await journal.record(entry(2, agency="Mairie", subject="f" * 64), b"r")
            await journal.record(
                entry(3, agency="Autre", subject=subject, status=429, error_code="00429"), b"r"
            )
    finally:
        await pool.close()

    assert "journal intact: 3 row(s)" in _ok(await _cli(db, "audit", "verify"))

    found = _ok(
        await _cli(
            db, "audit", "subject", "--dataset", declared.id, "--json", *_as_cli_params(params)
        )
    )
    rows = [json.loads(line) for line in found.splitlines()]
    assert [r["agency"] for r in rows] == ["Mairie", "Autre"]
    assert "2 access(es)" in _ok(
        await _cli(db, "audit", "subject", "--dataset", declared.id, *_as_cli_params(params))
    )
    bad = await _cli(db, "audit", "subject", "--dataset", declared.id, "--param", "sexeEtatCivil=Z")
    assert bad.exit_code != 0

    by_agency = _ok(await _cli(db, "audit", "agency", "Mairie", "--since", "2000-01-01", "--json"))
    assert len(by_agency.splitlines()) == 2

    stats = [json.loads(line) for line in _ok(await _cli(db, "stats", "--json")).splitlines()]
    assert stats[0]["requests"] == 3 and stats[0]["refused"] == 1

    assert "would drop" in _ok(await _cli(db, "audit", "purge", "--older-than", "36m", "--dry-run"))
    _ok(await _cli(db, "audit", "purge", "--older-than", "36m"))

    conn = await asyncpg.connect(db.admin_url)
    try:
        await conn.execute("UPDATE journal SET agency = 'Falsifié' WHERE seq = 2")
    finally:
        await conn.close()
    broken = await _cli(db, "audit", "verify")
    assert broken.exit_code == 1
    assert "row 2" in broken.output and "altered" in broken.output
