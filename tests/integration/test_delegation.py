"""Editors acting for agencies under delegation, made and revoked as an operator does."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.journal import agent_pseudonym
from broker.sdk import Client

from ..conftest import Services, particulier
from .conftest import (
    DATASET,
    SIRET,
    Account,
    Agency,
    create_account,
    grant_scopes,
    journal_rows,
    person,
)


class Editor(Account):
    """An editor, which asks for the agencies that delegated to it."""


@pytest.fixture
def editor(services: Services) -> Editor:
    """A fresh editor with its own RabbitMQ user and no delegation yet."""
    user = f"editor_{uuid.uuid4().hex[:8]}"
    name = f"Logiciel {user}"
    return Editor(name, user, create_account(services, "editors", name, user))


async def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a thread: the session's worker must keep running meanwhile."""
    return await asyncio.to_thread(particulier, *args)


async def test_an_editor_asks_only_for_agencies_that_delegated_to_it(
    editor: Editor, agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]})
    async with Client(editor.url) as client:
        unnamed = await client.request(DATASET, person(0), recipient=SIRET)
        assert unnamed.status == 400 and unnamed.body.errors[0].code == "00808"
        refused = await client.request(
            DATASET, person(0), recipient=SIRET, on_behalf_of=agency.name
        )
        assert refused.status == 403 and refused.body.errors[0].code == "00809"
        assert refused.data is None

        granted = await _cli("delegations", "grant", editor.name, agency.name)
        assert granted.returncode == 0, granted.stderr
        await asyncio.sleep(2.5)  # the workers refresh every 2 s
        reply = await client.request(
            DATASET, person(0), recipient=SIRET, on_behalf_of=agency.name, agent="guichet-42"
        )
        assert reply.status == 200, reply.body.errors
        assert reply.data is not None and set(reply.data) == {"quotient_familial"}, (
            "the agency's scopes, not more"
        )
        assert reply.body.meta.scopes == ["cnaf_quotient_familial"]

    (row,) = await journal_rows(services, reply.message_id)
    assert row["status"] == 200
    rows = await _journal(services, reply.message_id)
    assert rows["requester"] == editor.user
    assert rows["agency"] == agency.name and rows["editor"] == editor.name
    assert rows["agent"] == agent_pseudonym(agency.name, "guichet-42")
    assert "guichet-42" not in json.dumps(rows, default=str)

    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    shown = await _cli("audit", "agency", agency.name, "--since", since, "--json")
    assert shown.returncode == 0, shown.stderr
    lines = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [line["asked_by"] for line in lines if line["message_id"] == reply.message_id] == [
        f"an agent of {agency.name} via {editor.name}"
    ]
    assert "guichet-42" not in shown.stdout

    listed = await _cli("delegations", "list", "--editor", editor.name, "--json")
    assert [json.loads(line)["agency"] for line in listed.stdout.splitlines()] == [agency.name]


async def _journal(services: Services, message_id: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(services.admin_url)
    try:
        row = await conn.fetchrow(
            "SELECT requester, agency, editor, agent FROM journal WHERE message_id = $1",
            message_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def test_a_revoked_delegation_is_refused_within_seconds(
    editor: Editor, agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]})
    assert (await _cli("delegations", "grant", editor.name, agency.name)).returncode == 0
    await asyncio.sleep(2.5)
    async with Client(editor.url) as client:
        by_siret = await client.request(
            DATASET, person(100), recipient=SIRET, on_behalf_of=agency_siret(services, agency)
        )
        assert by_siret.status == 200, "the agency's SIRET names it too"
        revoked = await _cli("delegations", "revoke", editor.name, agency.name)
        assert revoked.returncode == 0, revoked.stderr
        revoked_at = time.monotonic()
        while True:
            reply = await client.request(
                DATASET, person(200), recipient=SIRET, on_behalf_of=agency.name
            )
            if reply.status == 403:
                break
            assert time.monotonic() - revoked_at < 5, "revocation not effective within 5 s"
            await asyncio.sleep(0.2)
    assert reply.body.errors[0].code == "00809"


def agency_siret(services: Services, agency: Agency) -> str:
    listed = particulier("agencies", "list", "--json")
    return next(
        json.loads(line)["siret"]
        for line in listed.stdout.splitlines()
        if json.loads(line)["name"] == agency.name
    )


async def test_an_editors_requests_count_against_the_agencys_rate_limit(
    editor: Editor, agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]}, rate_interactive=5)
    assert (await _cli("delegations", "grant", editor.name, agency.name)).returncode == 0
    await asyncio.sleep(2.5)
    async with Client(editor.url) as as_editor, Client(agency.url) as as_agency:
        for_agency = {"recipient": SIRET, "on_behalf_of": agency.name}
        burst = await asyncio.gather(
            *(as_editor.request(DATASET, person(300 + i), **for_agency) for i in range(10))
        )
        own = await as_agency.request(DATASET, person(400), recipient=SIRET)
    assert any(r.status == 429 for r in burst), "10 at once over a limit of 5/s"
    assert own.status == 429, "the agency's own request shares its bucket with its editor's"


async def test_an_agency_cannot_ask_on_behalf_of_another(
    agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]})
    async with Client(agency.url) as client:
        reply = await client.request(DATASET, person(500), recipient=SIRET, on_behalf_of="Démo")
    assert reply.status == 403 and reply.body.errors[0].code == "00809"


async def test_the_rights_look_up_says_what_each_login_may_ask_now(
    editor: Editor, agency: Agency, services: Services, worker: object
) -> None:
    await grant_scopes(
        services, agency, {DATASET: ["cnaf_quotient_familial", "cnaf_enfants"]}, rate_interactive=7
    )
    async with Client(agency.url) as client:
        own = await client.rights()
    assert own.status == 200
    (mine,) = own.data["agencies"]
    assert mine["name"] == agency.name and own.data["editor"] is None
    (habilitation,) = mine["habilitations"]
    assert habilitation["datasets"] == {DATASET: ["cnaf_enfants", "cnaf_quotient_familial"]}
    assert habilitation["lanes"]["interactive"] == {"rate_per_second": 7.0}
    assert habilitation["modes"] == ["identity"] and habilitation["valid_until"] is None

    async with Client(editor.url) as client:
        assert (await client.rights()).data["agencies"] == [], "no delegation yet"
        assert (await _cli("delegations", "grant", editor.name, agency.name)).returncode == 0
        await asyncio.sleep(2.5)
        delegated = await client.rights()
        one = await client.rights(on_behalf_of=agency.name)
        stranger = await client.rights(on_behalf_of="Démo")
    assert delegated.data["editor"] == editor.name
    assert [a["name"] for a in delegated.data["agencies"]] == [agency.name]
    assert delegated.data["agencies"] == one.data["agencies"]
    assert delegated.data["agencies"][0]["habilitations"] == mine["habilitations"]
    assert stranger.status == 403 and stranger.body.errors[0].code == "00809"

    shown = await _cli("whoami")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["requester"] == "guest"
