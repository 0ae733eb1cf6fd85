"""API Particulier's REST interface through the broker: tokens, the HTTP edge, headers, proofs."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import asyncpg

from broker.gateway import query_pairs
from broker.sdk import Client
from broker.simulation import Population

from ..conftest import RunningGateway, Services, particulier
from .conftest import Agency, grant_scopes

ROUTE = "/v3/dss/quotient_familial/identite"
DATASET = "cnav.quotient_familial"
SIRET = "13002526500013"
POPULATION = Population(1_000_000)


def query(params: dict[str, Any], recipient: str = SIRET) -> list[tuple[str, str]]:
    return query_pairs(recipient, params)


def person(start: int) -> dict[str, Any]:
    found = next(p for p in map(POPULATION.person, range(start, start + 100)) if p.found)
    return dict(found.params())


async def get(
    gateway: RunningGateway,
    path: str,
    params: list[tuple[str, str]] | None = None,
    *,
    token: str | None = None,
    method: str = "GET",
    **options: Any,
) -> tuple[int, dict[str, Any], Any]:
    headers = {"Authorization": f"Bearer {token or gateway.token}", **options.pop("headers", {})}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, gateway.url + path, params=params, headers=headers, **options) as r,
    ):
        return r.status, dict(r.headers), await r.json(content_type=None)


async def test_a_route_answers_as_api_particulier_with_a_verifiable_proof(
    gateway: RunningGateway, client: Client
) -> None:
    params = person(40_000)
    status, headers, body = await get(
        gateway, ROUTE, query(params), headers={"X-Request-ID": "abc-123"}
    )
    assert status == 200, body
    assert set(body) == {"data", "links", "meta"}
    direct = await client.request("cnav.quotient_familial", params, recipient=SIRET)
    assert body["data"] == direct.data
    assert headers["X-Request-ID"] == "abc-123"
    signed = base64.urlsafe_b64decode(headers["Particulier-Reply"])
    verified = client.verify(signed, None)  # the gateway's JWKS is the broker's
    assert verified.data == body["data"] and verified.proof == headers["Particulier-Proof"]
    assert "RateLimit-Limit" not in headers, "the demo agency has no limit"


async def test_rate_limits_come_from_the_tokens_agency(
    gateway: RunningGateway, agency: Agency, services: Services
) -> None:
    await grant_scopes(services, agency, {DATASET: ["cnaf_quotient_familial"]}, rate_interactive=2)
    issued = await asyncio.to_thread(particulier, "tokens", "issue", agency.name)
    token = issued.stdout.strip().splitlines()[-1]
    await asyncio.sleep(2.5)  # the delegation to the gateway reaches the workers
    answers = [
        await get(gateway, ROUTE, query(person(40_050 + 10 * i)), token=token) for i in range(4)
    ]
    first_status, first, body = answers[0]
    assert first_status == 200, body
    assert set(body["data"]) == {"quotient_familial"}, "the agency's own scopes"
    assert first["RateLimit-Limit"] == "120"  # 2 per second, per minute as API Particulier says
    assert int(first["RateLimit-Reset"]) % 60 == 0
    limited = [a for a in answers if a[0] == 429]
    assert limited, "4 at once over a limit of 2/s"
    assert limited[0][1]["Retry-After"].isdigit()
    assert limited[0][2]["errors"][0]["code"] == "00429"


async def test_tokens_unknown_expired_and_revoked_are_refused_with_their_codes(
    gateway: RunningGateway, services: Services
) -> None:
    params = query(person(40_100))
    assert (await get(gateway, ROUTE, params, token="nope"))[2]["errors"][0]["code"] == "00101"
    issued = await asyncio.to_thread(particulier, "tokens", "issue", "Démo", "--label", "short")
    token = issued.stdout.strip().splitlines()[-1]
    assert (await get(gateway, ROUTE, params, token=token))[0] == 200
    listed = await asyncio.to_thread(particulier, "tokens", "list", "--agency", "Démo", "--json")
    assert token not in listed.stdout, "a token is never shown again"
    conn = await asyncpg.connect(services.admin_url)
    try:
        token_id = await conn.fetchval("SELECT max(id) FROM gateway_tokens")
        await conn.execute(
            "UPDATE gateway_tokens SET created_at = now() - interval '2 days',"
            " expires_at = now() - interval '1 day' WHERE id = $1",
            token_id,
        )
        await asyncio.sleep(2.1)  # the gateway remembers a token 2 s
        status, _, body = await get(gateway, ROUTE, params, token=token)
        assert (status, body["errors"][0]["code"]) == (401, "00103")
        await conn.execute(
            "UPDATE gateway_tokens SET expires_at = now() + interval '1 day' WHERE id = $1",
            token_id,
        )
    finally:
        await conn.close()
    revoked = await asyncio.to_thread(particulier, "tokens", "revoke", str(token_id))
    assert revoked.returncode == 0, revoked.stderr
    await asyncio.sleep(2.1)
    status, _, body = await get(gateway, ROUTE, params, token=token)
    assert (status, body["errors"][0]["code"]) == (401, "00105")
    status, _, body = await get(gateway, ROUTE, params, token=" ")  # "Bearer" alone
    assert (status, body["errors"][0]["code"]) == (401, "00101")


async def test_bad_input_at_the_edge_gets_a_coded_error_never_a_server_error(
    gateway: RunningGateway,
) -> None:
    params = query(person(40_200))
    cases = [
        (await get(gateway, "/v3/nowhere", params), 404, "00810"),
        (await get(gateway, ROUTE, params, method="POST"), 405, "00811"),
        (await get(gateway, ROUTE, params, data=b'{"a": 1}'), 400, "00812"),
        (await get(gateway, ROUTE, [*params, ("x", "y" * 5000)]), 414, "00813"),
        (await get(gateway, ROUTE, [("recipient", SIRET)]), 422, None),
        (await get(gateway, ROUTE, query(person(40_200), recipient="")), 422, "00203"),
    ]
    for (status, _, body), expected, code in cases:
        assert status == expected, body
        assert body.get("errors")
        assert code is None or body["errors"][0]["code"] == code


async def test_cache_control_no_cache_asks_the_provider(gateway: RunningGateway) -> None:
    params = query(person(40_300))
    await get(gateway, ROUTE, params)
    _, cached, _ = await get(gateway, ROUTE, params)
    _, fresh, _ = await get(gateway, ROUTE, params, headers={"Cache-Control": "no-cache"})
    from broker.sdk.contract import ReplyBody

    def meta(headers: dict[str, Any]) -> Any:
        signed = base64.urlsafe_b64decode(headers["Particulier-Reply"])
        return ReplyBody.model_validate_json(signed).meta

    assert meta(cached).cached is True
    assert meta(fresh).cached is False


async def test_the_gateway_serves_metrics_and_health(gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(gateway.url + "/healthz") as health:
            assert health.status == 200
        async with http.get(gateway.url + "/metrics") as metrics:
            text = await metrics.text()
    assert "particulier_gateway_requests_total" in text


async def test_introspect_and_the_agent_at_the_counter(
    gateway: RunningGateway, services: Services
) -> None:
    status, _, rights = await get(gateway, "/api/introspect")
    assert status == 200 and [a["name"] for a in rights["agencies"]] == ["Démo"]
    assert rights["editor"] == "Passerelle REST"
    assert (await get(gateway, "/api/introspect", token="nope"))[0] == 401

    status, headers, _ = await get(
        gateway, ROUTE, query(person(40_400)), headers={"X-Agent-Id": "agent-007"}
    )
    assert status == 200
    signed = base64.urlsafe_b64decode(headers["Particulier-Reply"])
    from broker.sdk.contract import ReplyBody

    message_id = ReplyBody.model_validate_json(signed).meta.request_id
    conn = await asyncpg.connect(services.admin_url)
    try:
        row = await conn.fetchrow(
            "SELECT agency, editor, agent FROM journal WHERE message_id = $1", message_id
        )
    finally:
        await conn.close()
    assert row is not None and row["agency"] == "Démo" and row["editor"] == "Passerelle REST"
    assert row["agent"] and "agent-007" not in row["agent"]
