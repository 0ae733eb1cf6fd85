"""Each provider's simulator, found beside its declarations."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path

from aiohttp import web

from .. import registry
from ._frame import (
    SimulatorContext,
    build_app,
    default_cases_dirs,
    france_connect_cases_dirs,
    load_cases,
    serve,
)
from ._population import Population

__all__ = ["SimulatorBuilder", "context", "serve_simulators", "simulators"]

SimulatorBuilder = Callable[[SimulatorContext], web.Application]
"""Builds the aiohttp application that plays one provider's upstream."""


def simulators(names: list[str] | None = None) -> dict[str, SimulatorBuilder]:
    """Each provider's simulator (``build_simulator`` in its package's ``simulator`` module)."""
    chosen = names if names is not None else list(registry.providers())
    return {
        name: importlib.import_module(f"{registry.package(name)}.simulator").build_simulator
        for name in chosen
    }


def context(
    population: Population, *, cases: Iterable[Path] = (), staging: bool = True
) -> SimulatorContext:
    """The simulators' shared context: the population, and the staging cases (the shared
    conformance and FranceConnect folders, and the project's own) with the folders ``cases``."""
    dirs = [*((*default_cases_dirs(), *france_connect_cases_dirs()) if staging else ()), *cases]
    return SimulatorContext(population=population, cases=load_cases(dirs))


async def serve_simulators(
    ctx: SimulatorContext, host: str = "127.0.0.1", port: int = 0, names: list[str] | None = None
) -> web.AppRunner:
    """Every provider's simulator (or those ``names``) under ``/<provider>``, with the admin
    API, started in the running loop; the caller cleans the runner up. With all of them, and
    when the broker has a FranceConnect encryption key (``PARTICULIER_FRANCE_CONNECT_KEY``),
    the FranceConnect simulator too, under ``/france_connect``."""
    builders = simulators(names)
    if names is None and (france_connect := _france_connect()) is not None:
        builders["france_connect"] = france_connect
    return await serve(build_app(builders, ctx), host, port)


def _france_connect() -> SimulatorBuilder | None:
    from ..config import settings
    from ..france_connect import encryption_jwks
    from .france_connect import FranceConnect, build_france_connect, staging_tokens

    config = settings()
    if not config.france_connect_key:
        return None
    state = FranceConnect(
        encryption_jwks=encryption_jwks(config.france_connect_key)["keys"],
        clients={config.france_connect_client_id: config.france_connect_client_secret},
    )
    state.load(staging_tokens())
    return lambda _ctx: build_france_connect(state)
