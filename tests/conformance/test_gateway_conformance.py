"""Every staging case over HTTP through the REST gateway, as an existing integration sends it:
the route, the query string (``prenoms[]``), ``Authorization: Bearer`` (the agency's token, or
on a ``/france_connect`` route the citizen's FranceConnect token)."""

from __future__ import annotations

import subprocess
from typing import Any

import aiohttp
import pytest

from broker import registry
from broker.france_connect import IDENTITY_PARAMETERS
from broker.gateway import Route, query_pairs, routes_of
from broker.simulation import Case
from broker.simulation.france_connect import mint_token

from ..conftest import RunningGateway
from .test_conformance import ACCESS_CHECKS, ALL_CASES, SIRET, _id, dataset_of
from .test_france_connect_conformance import CASES as FRANCE_CONNECT_CASES
from .test_france_connect_conformance import KNOWN_GAPS, NOBODY, _token

ROUTES = routes_of(registry.datasets())
_SUFFIX = {"civility": "identite", "ine": "ine", "identifiant": "identifiant"}


def route_of(case: Case) -> Route:
    """The route staging answered the case on."""
    dataset = dataset_of(case)
    served = [
        r
        for r in ROUTES.values()
        if r.dataset == dataset
        and r.version == case.version
        and r.france_connect == (case.pivot == "france_connect")
    ]
    suffix = _SUFFIX.get(case.pivot)
    chosen = [r for r in served if suffix and r.path.endswith("/" + suffix)] or served
    assert len(chosen) == 1, (case.path, [r.path for r in served])
    return chosen[0]


async def ask(gateway: RunningGateway, route: Route, params: dict[str, Any], token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            gateway.url + route.path, params=query_pairs(SIRET, params), headers=headers
        ) as response,
    ):
        return response.status, await response.json()


def assert_answers(status: int, body: dict[str, Any], case: Case) -> None:
    errors = body.get("errors") or []
    assert status == case.status, [e.get("code") for e in errors]
    if case.status == 200:
        assert body["data"] == case.data
    else:
        assert [e["code"] for e in errors] == case.error_codes


@pytest.mark.parametrize("case", ALL_CASES, ids=[_id(c) for c in ALL_CASES])
async def test_case_over_http(case: Case, gateway: RunningGateway) -> None:
    if set(case.error_codes) & ACCESS_CHECKS:
        pytest.skip("API Particulier's own access check (token or quota), not a provider answer")
    status, body = await ask(gateway, route_of(case), case.params, gateway.token)
    assert_answers(status, body, case)


def _france_connect_id(case: Case) -> str:
    return f"v{case.version}-{case.endpoint}/{case.path.name}"


@pytest.mark.parametrize(
    "case",
    [c for c in FRANCE_CONNECT_CASES if _france_connect_id(c) not in KNOWN_GAPS],
    ids=_france_connect_id,
)
async def test_france_connect_case_over_http(
    case: Case, gateway: RunningGateway, simulator: Any
) -> None:
    if set(case.error_codes) & ACCESS_CHECKS:
        pytest.skip("API Particulier's own access check (token or quota), not a provider answer")
    route = route_of(case)
    token = await _token(simulator, route.dataset, case.version, case.citizen or NOBODY)
    own = {k: v for k, v in case.params.items() if k not in IDENTITY_PARAMETERS}
    status, body = await ask(gateway, route, own, token)
    assert_answers(status, body, case)


def test_every_route_of_the_openapi_file_the_broker_serves_is_routed() -> None:
    """The routes of API Particulier's own OpenAPI file whose dataset the broker serves."""
    from broker.simulation import shared_dir

    shared = shared_dir()
    assert shared is not None, "the shared folder is there (the conformance cases need it)"
    text = (shared / "reference" / "api-particulier-openapi-v3.yaml").read_text()
    documented = {line.strip()[1:-2] for line in text.splitlines() if line.startswith('  "/v')}
    assert documented and documented <= set(ROUTES), documented - set(ROUTES)


def _curl_examples() -> list[str]:
    from broker.simulation import shared_dir

    shared = shared_dir()
    assert shared is not None
    commands = []
    for readme in sorted(shared.rglob("README.md")):
        commands += [line.strip() for line in readme.read_text().splitlines() if "curl " in line]
    return commands


async def test_the_readmes_curl_examples_work_with_only_the_base_url_and_token_changed(
    gateway: RunningGateway, simulator: Any
) -> None:
    """The cURL commands of the staging folders' READMEs, with the gateway's base URL and a
    token minted at the FranceConnect simulator for the same citizen with the route's scopes
    (staging's test tokens do not all hold them). API Particulier's v2 routes are outside what
    the broker mirrors (v3 and v4): they are answered 404 00810; the ANTS command lacks the
    ``immatriculation`` its route requires, and is answered 422 as API Particulier would. The
    others reach their provider, which answers for that citizen (data, or its own 404)."""
    import asyncio
    import json
    import shlex

    from broker.simulation.france_connect import staging_tokens

    recorded = staging_tokens()
    commands = _curl_examples()
    assert commands, "the READMEs hold cURL examples"
    answered = 0
    for command in commands:
        argv = shlex.split(command.replace("https://staging.particulier.api.gouv.fr", gateway.url))
        path = argv[-1].split(gateway.url, 1)[1].split("?", 1)[0]
        route = ROUTES.get(path)
        if route is not None:
            name = argv[argv.index("-H") + 1].removeprefix("Authorization: Bearer ")
            claims = dict(recorded[name]["token_introspection"])
            identity = {k: v for k, v in claims.items() if k not in ("scope", "exp", "iat", "sub")}
            dataset = registry.dataset(route.dataset, route.version)
            assert dataset is not None
            scope = " ".join(["openid", "identite_pivot", *dataset.scopes])
            minted = {**identity, "scope": scope}
            token = await mint_token(f"{simulator.url}/france_connect", minted)
            argv[argv.index("-H") + 1] = f"Authorization: Bearer {token}"
        done = await asyncio.to_thread(
            subprocess.run, [*argv, "-s", "-w", "\n%{http_code}"], capture_output=True, text=True
        )
        body, _, status = done.stdout.rpartition("\n")
        if path.startswith("/v2/"):
            assert (status, json.loads(body)["errors"][0]["code"]) == ("404", "00810"), command
            continue
        if path.startswith("/v3/ants/") and "immatriculation=" not in command:
            assert (status, json.loads(body)["errors"][0]["code"]) == ("422", "00430"), command
            continue
        answer = json.loads(body)
        if status == "404":  # the provider has no file for this test citizen: its own answer
            assert answer["errors"][0]["meta"]["provider"], command
        else:
            assert status == "200" and answer["data"], (command, body)
        answered += 1
    assert answered >= 1
