"""Provider-level test harness: one provider's simulator over real HTTP, and its upstream.

Each test module asks ``serve_provider("<name>")`` for a running simulator of that provider only
(so that a broken neighbour package cannot fail its tests), loaded with the shared staging cases
and with the project's own case folders under ``tests/conformance``; a dataset served in
FranceConnect mode only (ANTS) has its staging cases in the shared FranceConnect-mode folder, which
is loaded for it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from broker import registry
from broker.errors import ProblemError, ProviderErrors
from broker.kit import Dataset, Provider, Upstream, validate_params
from broker.simulation import (
    Case,
    Population,
    SimulatorContext,
    build_app,
    default_cases_dirs,
    france_connect_cases_dirs,
    load_cases,
    serve,
    shared_dir,
    simulators,
)

PROJECT_CASES = Path(__file__).resolve().parents[1] / "conformance"
SKIPPED_CODES = frozenset({"00100", "00429"})
"""API Particulier's own access checks: not the provider's answers (see the conformance README)."""


def france_connect_only_dirs() -> list[Path]:
    """The FranceConnect-mode staging folders of the datasets served in that mode only (ANTS):
    their only staging cases. The other datasets' FranceConnect-mode cases are the conformance
    suite's (``tests/conformance/test_france_connect_conformance.py``)."""
    names = [
        f"api_particulier_v{d.version}_{d.provider_name}_{d.name}_with_france_connect"
        for d in registry.datasets()
        if not d.identity
    ]
    return [root / name for root in france_connect_cases_dirs() for name in names]


def case_dirs() -> list[Path]:
    """The shared staging cases and the project's own, each folder once, with the staging cases
    of the datasets served in FranceConnect mode only."""
    found: list[Path] = []
    for folder in [*default_cases_dirs(), PROJECT_CASES, *france_connect_only_dirs()]:
        if folder.is_dir() and folder.resolve() not in found:
            found.append(folder.resolve())
    return found


@dataclass
class Outcome:
    """What the broker would answer: status, and data or error codes."""

    status: int
    data: Any = None
    codes: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunningProvider:
    provider: Provider
    ctx: SimulatorContext
    base_url: str
    upstream: Upstream

    def dataset(self, dataset_id: str, version: int | None = None) -> Dataset:
        found = self.provider.dataset(dataset_id, version)
        assert found is not None, dataset_id
        return found

    async def ask(
        self, dataset: Dataset, params: Mapping[str, Any], *, budget: float = 5.0
    ) -> Outcome:
        """Validate ``params`` and fetch, as a worker does; errors become an outcome."""
        try:
            valid = validate_params(dataset.params, params)
            data = await dataset.fetch(self.upstream.call(time.monotonic() + budget), valid)
        except ProblemError as exc:
            return Outcome(exc.status, None, [exc.spec.code], [exc.error()])
        return Outcome(200, data)

    async def faults(self, **values: Any) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.put(
                f"{self.base_url}/_admin/faults",
                params={"provider": self.provider.name},
                json=values,
            )
            response.raise_for_status()

    @asynccontextmanager
    async def faulty(self, **values: Any) -> AsyncIterator[None]:
        """The simulator with the faults ``values`` while inside, reset on leaving."""
        await self.faults(**values)
        try:
            yield
        finally:
            await self.faults(reset=True)

    def cases(self, dataset: Dataset) -> list[Case]:
        """The loaded cases of ``dataset`` (its version), API Particulier's own checks left out."""
        name = self.provider.name
        return [
            c
            for c in self.ctx.cases_of(name)
            if c.dataset_name(name) == dataset.name
            and c.version == dataset.version
            and not SKIPPED_CODES.intersection(c.error_codes)
        ]


@asynccontextmanager
async def upstream_answering(
    name: str, errors: ProviderErrors, answer: httpx.Response
) -> AsyncIterator[Upstream]:
    """An upstream that answers every request with ``answer`` (its status, headers and body),
    over real HTTP: an answer no simulator would give."""

    async def handle(_request: web.Request) -> web.Response:
        headers = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding")
        }
        return web.Response(status=answer.status_code, body=answer.content, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    upstream = Upstream(name, str(server.make_url(f"/{name}/")), errors, timeout=2.0)
    try:
        yield upstream
    finally:
        await upstream.aclose()
        await server.close()


def outcome_matches(case: Case, got: Outcome) -> bool:
    if case.status == 200:
        return got.status == 200 and got.data == case.data
    return got.status == case.status and got.codes == case.error_codes


@pytest.fixture(scope="session")
def population() -> Population:
    return Population(20_000)


@pytest.fixture(scope="session")
def conformance_cases() -> list[Case]:
    return load_cases(case_dirs())


@pytest.fixture(scope="session")
async def serve_provider(
    population: Population, conformance_cases: list[Case]
) -> AsyncIterator[Callable[..., Awaitable[RunningProvider]]]:
    """``await serve_provider(name, cases=None)``: that provider's simulator, started once."""
    started: dict[str, RunningProvider] = {}
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(name: str, cases: list[Case] | None = None) -> RunningProvider:
        if name in started and cases is None:
            return started[name]
        provider = registry.provider(name)
        ctx = SimulatorContext(
            population=population, cases=conformance_cases if cases is None else cases
        )
        runner = await serve(build_app(simulators([name]), ctx), "127.0.0.1", 0)
        cleanups.append(runner.cleanup)
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        upstream = Upstream(name, f"{base}/{name}/", provider.errors, timeout=2.0)
        cleanups.append(upstream.aclose)
        running = RunningProvider(provider, ctx, base, upstream)
        if cases is None:
            started[name] = running
        return running

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()


def reference_scopes(endpoint: str) -> set[str] | None:
    """The scopes api-particulier-scopes.yml lists for ``<provider>/<endpoint>_with_<pivot>``."""
    import yaml

    shared = shared_dir()
    candidate = shared / "reference" / "api-particulier-scopes.yml" if shared else None
    if candidate is None or not candidate.is_file():
        return None
    listed = yaml.safe_load(candidate.read_text(encoding="utf-8")).get(endpoint)
    return set(listed) if listed is not None else None


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of the leaves of ``value`` (``[]`` marks list items)."""
    if isinstance(value, Mapping) and value:
        found: set[str] = set()
        for key, item in value.items():
            found |= leaf_paths(item, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(value, list) and value:
        return set().union(*(leaf_paths(item, f"{prefix}[]") for item in value))
    return {prefix}


def assert_scopes_partition(dataset: Dataset, data: Mapping[str, Any]) -> None:
    """Each scope unmasks a non-empty group; groups are disjoint and together give ``data``.

    A scope declaring no field (kept for API Particulier's list) unmasks nothing.
    """
    assert dataset.mask(data, frozenset(dataset.scopes)) == data
    seen: dict[str, str] = {}
    for scope, paths in dataset.scopes.items():
        leaves = leaf_paths(dataset.mask(data, frozenset({scope})))
        if not paths:
            assert leaves == {""}, f"{scope} declares nothing but unmasks {leaves}"
            continue
        assert leaves and leaves != {""}, f"{scope} unmasks nothing"
        for leaf in leaves:
            assert leaf not in seen, f"{leaf} is unmasked by {seen.get(leaf)} and {scope}"
            seen[leaf] = scope
    assert set(seen) == leaf_paths(data)
