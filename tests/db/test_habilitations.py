"""Granting, authorising, refusing and revoking habilitations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from pydantic import BaseModel

from broker import registry
from broker.db import create_pool
from broker.errors import BROKER, ProblemError
from broker.habilitations import (
    DEMO_FRANCE_CONNECT_CLIENT,
    DEMO_USER,
    Habilitations,
    HabilitationsUnavailable,
    add_france_connect_client,
    check_recipient,
    create_agency,
    grant,
    list_france_connect_clients,
    list_habilitations,
    remove_france_connect_client,
    resolve_scopes,
    revoke,
    seed_demo,
)
from broker.habilitations.admin import AgencyConflict
from broker.kit import Dataset, Endpoint, Params, Record, Renaming, UpstreamRequest
from broker.sdk.contract import Mode

from .support import Database, Proxy, unique

QF = "cnav.quotient_familial"
QF_SCOPES = frozenset(
    {"cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"}
)
RSA = "cnav.revenu_solidarite_active"
RSA_SCOPES = frozenset({"revenu_solidarite_active", "revenu_solidarite_active_majoration"})


@pytest_asyncio.fixture
async def habilitations(app_pool: asyncpg.Pool) -> AsyncIterator[Habilitations]:
    cache = Habilitations(app_pool, refresh_seconds=0.5)
    await cache.start()
    yield cache
    await cache.close()


async def _agency(admin_pool: asyncpg.Pool) -> tuple[str, str]:
    name, user = unique("Mairie"), unique("mairie")
    async with admin_pool.acquire() as conn:
        await create_agency(conn, name, siret="21690123100011", user=user)
    return name, user


async def _grant(
    admin_pool: asyncpg.Pool, agency: str, scopes: dict[str, set[str]], **kw: Any
) -> int:
    kw.setdefault("legal_basis", "Tarification sociale de la cantine")
    kw.setdefault("legal_reference", "CASF L.123-1")
    async with admin_pool.acquire() as conn:
        return await grant(conn, agency, scopes, **kw)


async def _authorize(
    cache: Habilitations,
    user: str,
    dataset: str = QF,
    scopes: frozenset[str] = QF_SCOPES,
    lane: str = "interactive",
) -> Any:
    return await cache.authorize(requester=user, dataset=dataset, dataset_scopes=scopes, lane=lane)


async def _forbidden(
    cache: Habilitations, user: str, dataset: str = QF, scopes: frozenset[str] = QF_SCOPES
) -> None:
    with pytest.raises(ProblemError) as caught:
        await _authorize(cache, user, dataset, scopes)
    assert caught.value.spec is BROKER.FORBIDDEN
    assert caught.value.status == 403 and caught.value.error()["code"] == "00100"


async def test_grant_authorize_only_granted_scopes(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    agency, user = await _agency(admin_pool)
    hid = await _grant(admin_pool, agency, {QF: {"cnaf_quotient_familial", "cnaf_adresse"}})
    await habilitations.refresh()
    found = await _authorize(habilitations, user)
    assert found.habilitation_id == hid
    assert found.agency == agency and found.agency_siret == "21690123100011"
    assert found.scopes == {"cnaf_quotient_familial", "cnaf_adresse"}
    assert found.legal_basis == "Tarification sociale de la cantine"
    assert found.legal_reference == "CASF L.123-1"
    # only the scopes the dataset declares count
    narrow = await _authorize(habilitations, user, scopes=frozenset({"cnaf_adresse"}))
    assert narrow.scopes == {"cnaf_adresse"}


async def test_refusals(admin_pool: asyncpg.Pool, habilitations: Habilitations) -> None:
    now = datetime.now(UTC)
    # no habilitation at all, and an unknown requester
    _, user = await _agency(admin_pool)
    await habilitations.refresh()
    await _forbidden(habilitations, user)
    await _forbidden(habilitations, "nobody")
    # expired
    expired_agency, expired = await _agency(admin_pool)
    await _grant(
        admin_pool,
        expired_agency,
        {QF: {"cnaf_quotient_familial"}},
        valid_from=now - timedelta(days=30),
        valid_until=now - timedelta(days=1),
    )
    # not yet valid
    future_agency, future = await _agency(admin_pool)
    await _grant(
        admin_pool,
        future_agency,
        {QF: {"cnaf_quotient_familial"}},
        valid_from=now + timedelta(days=1),
    )
    # revoked
    revoked_agency, revoked = await _agency(admin_pool)
    hid = await _grant(admin_pool, revoked_agency, {QF: {"cnaf_quotient_familial"}})
    async with admin_pool.acquire() as conn:
        assert await revoke(conn, hid)
        assert not await revoke(conn, hid)
    # a habilitation on another dataset, and one whose scopes this dataset does not declare
    other_agency, other = await _agency(admin_pool)
    await _grant(admin_pool, other_agency, {RSA: set(RSA_SCOPES)})
    alien_agency, alien = await _agency(admin_pool)
    await _grant(admin_pool, alien_agency, {QF: {"revenu_solidarite_active"}})
    await habilitations.refresh()
    for requester in (expired, future, revoked, other, alien):
        await _forbidden(habilitations, requester)
    # the RSA holder is fine on RSA
    assert (await _authorize(habilitations, other, RSA, RSA_SCOPES)).scopes == RSA_SCOPES


async def test_expiry_is_checked_on_each_call(
    admin_pool: asyncpg.Pool, app_pool: asyncpg.Pool
) -> None:
    agency, user = await _agency(admin_pool)
    await _grant(
        admin_pool,
        agency,
        {QF: {"cnaf_quotient_familial"}},
        valid_until=datetime.now(UTC) + timedelta(hours=1),
    )
    clock = [time.time()]
    cache = Habilitations(app_pool, clock=lambda: clock[0])
    await cache.start()
    try:
        await _authorize(cache, user)
        clock[0] += 7200
        await _forbidden(cache, user)
    finally:
        await cache.close()


async def test_revocation_visible_within_five_seconds(
    admin_pool: asyncpg.Pool, app_pool: asyncpg.Pool
) -> None:
    agency, user = await _agency(admin_pool)
    hid = await _grant(admin_pool, agency, {QF: {"cnaf_quotient_familial"}})
    cache = Habilitations(app_pool)  # the default refresh period
    await cache.start()
    try:
        await _authorize(cache, user)
        async with admin_pool.acquire() as conn:
            await revoke(conn, hid)
        revoked_at = time.monotonic()
        while True:
            try:
                await _authorize(cache, user)
            except ProblemError as exc:
                assert exc.spec is BROKER.FORBIDDEN
                break
            assert time.monotonic() - revoked_at < 5.0, "revocation not seen within 5 s"
            await asyncio.sleep(0.05)
        print(f"revocation seen after {time.monotonic() - revoked_at:.2f} s")
    finally:
        await cache.close()


async def test_the_habilitation_granting_most_scopes_serves(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    agency, user = await _agency(admin_pool)
    await _grant(admin_pool, agency, {QF: {"cnaf_adresse"}}, legal_basis="Une")
    wide = await _grant(
        admin_pool, agency, {QF: {"cnaf_adresse", "cnaf_enfants"}}, legal_basis="Deux"
    )
    await habilitations.refresh()
    found = await _authorize(habilitations, user)
    assert found.habilitation_id == wide and found.legal_basis == "Deux"


async def test_rate_limited_with_retry_in(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    agency, user = await _agency(admin_pool)
    await _grant(admin_pool, agency, {QF: {"cnaf_adresse"}}, rate_interactive=2.0, rate_bulk=None)
    await habilitations.refresh()
    await _authorize(habilitations, user)
    await _authorize(habilitations, user)
    with pytest.raises(ProblemError) as caught:
        await _authorize(habilitations, user)
    assert caught.value.spec is BROKER.RATE_LIMITED and caught.value.status == 429
    error = caught.value.error()
    assert error["code"] == "00429" and error["meta"]["retry_in"] >= 1
    # the bulk lane is unlimited for this habilitation, and costs no round trip
    trips = habilitations.limiter.round_trips
    for _ in range(50):
        await _authorize(habilitations, user, lane="bulk")
    assert habilitations.limiter.round_trips == trips


async def test_unlimited_habilitation_is_served_from_memory(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    agency, user = await _agency(admin_pool)
    await _grant(admin_pool, agency, {QF: set(QF_SCOPES)}, rate_interactive=None)
    await habilitations.refresh()
    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        await _authorize(habilitations, user)
    per_call = (time.perf_counter() - started) / n
    assert habilitations.limiter.round_trips == 0
    print(f"authorize, unlimited: {per_call * 1e6:.1f} µs per call")
    assert per_call < 0.001


async def test_start_fails_when_database_unreachable() -> None:
    pool = await create_pool("postgresql://postgres@127.0.0.1:1/x", min_size=0)
    try:
        with pytest.raises(HabilitationsUnavailable):
            await Habilitations(pool).start()
    finally:
        await pool.close()


async def test_cache_keeps_serving_during_outage(admin_pool: asyncpg.Pool) -> None:
    agency, user = await _agency(admin_pool)
    await _grant(admin_pool, agency, {QF: {"cnaf_adresse"}}, rate_interactive=1000.0)
    database_name = await admin_pool.fetchval("SELECT current_database()")
    proxy = Proxy()
    await proxy.start()
    url = Database(database_name).app_url.replace(":5432/", f":{proxy.port}/")
    pool = await create_pool(url, min_size=0)
    cache = Habilitations(pool, refresh_seconds=0.2)
    try:
        await cache.start()
        await _authorize(cache, user)
        await proxy.stop()
        await asyncio.sleep(0.5)
        # the rate-limited habilitation falls back to a per-process bucket
        assert (await _authorize(cache, user)).scopes == {"cnaf_adresse"}
        await proxy.start()
        await asyncio.sleep(0.5)
        assert (await _authorize(cache, user)).scopes == {"cnaf_adresse"}
    finally:
        await cache.close()
        await pool.close()
        await proxy.stop()


class _P(Params):
    nom: str | None = None


class _D(BaseModel):
    a: int | None = None


_NO_UPSTREAM: Endpoint[_P] = Endpoint(
    request=lambda _params: UpstreamRequest("GET", "x"),
    record=Record(model=_D, renaming=Renaming({})),
    errors={},
)
"""Seeding habilitations reads a dataset's scopes only; nothing calls its upstream."""


def _dataset(dataset_id: str, scopes: list[str], version: int = 1) -> Dataset:
    return Dataset(
        id=dataset_id,
        version=version,
        route="/x",
        title="x",
        params=_P,
        scopes={s: [s] for s in scopes},
        endpoint=_NO_UPSTREAM,
    )


async def test_seed_demo_is_idempotent_and_grows(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    declared = [_dataset("demo_a.one", ["s1", "s2"]), _dataset("demo_a.two", ["s3"])]
    async with admin_pool.acquire() as conn:
        first = await seed_demo(conn, declared)
        again = await seed_demo(conn, declared)
        more = await seed_demo(conn, [*declared, _dataset("demo_a.three", ["s4"])])
        listed = await list_habilitations(conn, agency="Démo")
    assert first.added == 3 and again.added == 0 and more.added == 1
    assert first.habilitation_id == again.habilitation_id == more.habilitation_id
    demo = next(h for h in listed if h.id == first.habilitation_id)
    assert demo.rate_interactive is None and demo.rate_bulk is None
    await habilitations.refresh()
    found = await habilitations.authorize(
        requester=DEMO_USER, dataset="demo_a.three", dataset_scopes={"s4"}, lane="bulk"
    )
    assert found.agency == "Démo" and found.agency_siret == "13002526500013"
    assert habilitations.limiter.round_trips == 0


async def test_agency_conflicts(admin_pool: asyncpg.Pool) -> None:
    name, user = unique("Ville"), unique("ville")
    async with admin_pool.acquire() as conn:
        first = await create_agency(conn, name, siret="21690123100011", user=user)
        assert (await create_agency(conn, name, siret="21690123100011", user=user)) == first
        with pytest.raises(AgencyConflict):
            await create_agency(conn, name, siret="13002526500013", user=user)
        with pytest.raises(AgencyConflict):
            await create_agency(conn, unique("Autre"), siret="21690123100011", user=user)
        with pytest.raises(ValueError):
            await create_agency(conn, unique("Autre"), siret="12345678901234", user="x")
        with pytest.raises(ValueError):
            await create_agency(conn, unique("Autre"), siret="21690123100011", user="a.b")
        with pytest.raises(LookupError):
            await grant(
                conn, "no such agency", {QF: {"cnaf_adresse"}}, legal_basis="x", legal_reference="y"
            )


async def test_one_scope_grants_that_group_only_for_every_dataset(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    """For every declared dataset and scope: a habilitation holding that scope alone yields a
    grant of that scope alone, and the dataset's mask then keeps that scope's fields only."""
    declared = {d.id: d for d in registry.datasets()}
    if not declared:
        pytest.skip("no dataset declared yet")
    holders: list[tuple[str, str, str]] = []
    async with admin_pool.acquire() as conn:
        for dataset in declared.values():
            for scope in dataset.scopes:
                name, user = unique("Scope"), unique("scope")
                await create_agency(conn, name, siret="21690123100011", user=user)
                await grant(
                    conn,
                    name,
                    {dataset.id: {scope}},
                    legal_basis="x",
                    legal_reference="y",
                    rate_interactive=None,
                )
                holders.append((dataset.id, scope, user))
    await habilitations.refresh()
    for dataset_id, scope, user in holders:
        dataset = declared[dataset_id]
        found = await habilitations.authorize(
            requester=user, dataset=dataset_id, dataset_scopes=dataset.scopes, lane="bulk"
        )
        assert found.scopes == {scope}
        full: dict[str, Any] = {}
        for paths in dataset.scopes.values():
            for path in paths:
                node = full
                *parents, leaf = path.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = path
        kept = _leaves(dataset.mask(full, found.scopes))
        assert kept == set(dataset.scopes[scope]), (dataset_id, scope)


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        found |= _leaves(value, path + ".") if isinstance(value, dict) else {path}
    return found


def test_resolve_scopes() -> None:
    known = {QF: QF_SCOPES, RSA: RSA_SCOPES}
    assert resolve_scopes([QF], ["cnaf_adresse"], all_scopes=False, known=known) == {
        QF: {"cnaf_adresse"}
    }
    assert resolve_scopes([QF, RSA], [], all_scopes=True, known=known) == {
        QF: set(QF_SCOPES),
        RSA: set(RSA_SCOPES),
    }
    assert resolve_scopes(
        [QF, RSA], ["cnaf_adresse", "revenu_solidarite_active"], all_scopes=False, known=known
    ) == {QF: {"cnaf_adresse"}, RSA: {"revenu_solidarite_active"}}
    with pytest.raises(ValueError, match="not declared"):
        resolve_scopes([QF], ["revenu_solidarite_active"], all_scopes=False, known=known)
    with pytest.raises(ValueError, match="unknown dataset"):
        resolve_scopes(["x.y"], ["s"], all_scopes=False, known=known)
    assert resolve_scopes(["x.y"], ["s"], all_scopes=False, known=known, unchecked=True) == {
        "x.y": {"s"}
    }
    with pytest.raises(ValueError):
        resolve_scopes([QF], [], all_scopes=False, known=known)


def test_recipient() -> None:
    assert check_recipient("130 025 265 00013") == "13002526500013"
    for value, code in (
        (None, "00203"),
        ("", "00203"),
        ("12345678901234", "00210"),
        ("abc", "00210"),
    ):
        with pytest.raises(ProblemError) as caught:
            check_recipient(value)
        assert caught.value.error()["code"] == code
        assert caught.value.parameter == "recipient"


async def _france_connect(cache: Habilitations, user: str, client: str | None) -> Any:
    return await cache.authorize(
        requester=user,
        dataset=QF,
        dataset_scopes=QF_SCOPES,
        lane="interactive",
        mode=Mode.FRANCE_CONNECT,
        france_connect_client=client,
    )


async def test_france_connect_mode_needs_the_mode_and_the_agencys_own_client(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    agency, user = await _agency(admin_pool)
    other, _ = await _agency(admin_pool)
    ours, theirs = unique("client-a"), unique("client-b")
    async with admin_pool.acquire() as conn:
        await add_france_connect_client(conn, agency, ours)
        await add_france_connect_client(conn, other, theirs)
        await add_france_connect_client(conn, agency, ours)  # idempotent
        with pytest.raises(AgencyConflict):
            await add_france_connect_client(conn, agency, theirs)
    await _grant(admin_pool, agency, {QF: set(QF_SCOPES)})
    await habilitations.refresh()
    # an identity-only habilitation serves identity requests, not FranceConnect ones
    assert (await _authorize(habilitations, user)).scopes == QF_SCOPES
    for client in (ours, theirs, None):
        with pytest.raises(ProblemError) as refused:
            await _france_connect(habilitations, user, client)
        assert refused.value.spec is BROKER.FORBIDDEN
    hid = await _grant(
        admin_pool, agency, {QF: {"cnaf_quotient_familial"}}, modes=[Mode.FRANCE_CONNECT]
    )
    await habilitations.refresh()
    found = await _france_connect(habilitations, user, ours)
    assert found.habilitation_id == hid and found.scopes == {"cnaf_quotient_familial"}
    # a token obtained by another agency's service is never this agency's
    for client in (theirs, None, "unknown-client"):
        with pytest.raises(ProblemError) as refused:
            await _france_connect(habilitations, user, client)
        assert refused.value.spec is BROKER.FORBIDDEN
    # the identity mode keeps its own habilitation
    assert (await _authorize(habilitations, user)).scopes == QF_SCOPES
    async with admin_pool.acquire() as conn:
        assert (agency, ours) in await list_france_connect_clients(conn)
        assert await remove_france_connect_client(conn, ours)
        infos = await list_habilitations(conn, agency=agency)
    assert sorted(h.modes for h in infos) == [("france_connect",), ("identity",)]
    await habilitations.refresh()
    with pytest.raises(ProblemError):
        await _france_connect(habilitations, user, ours)


async def test_the_demo_agency_may_use_france_connect_with_the_simulators_client(
    admin_pool: asyncpg.Pool, habilitations: Habilitations
) -> None:
    async with admin_pool.acquire() as conn:
        await seed_demo(conn, registry.datasets())
    await habilitations.refresh()
    found = await _france_connect(habilitations, DEMO_USER, DEMO_FRANCE_CONNECT_CLIENT)
    assert found.scopes == QF_SCOPES
