"""Each provider's simulator, found beside its declarations."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from aiohttp import web

from .. import registry
from ._frame import SimulatorContext

__all__ = ["SimulatorBuilder", "simulators"]

SimulatorBuilder = Callable[[SimulatorContext], web.Application]
"""Builds the aiohttp application that plays one provider's upstream."""


def simulators(names: list[str] | None = None) -> dict[str, SimulatorBuilder]:
    """Each provider's simulator (``build_simulator`` in its package's ``simulator`` module)."""
    chosen = names if names is not None else list(registry.providers())
    return {
        name: importlib.import_module(f"{registry.package(name)}.simulator").build_simulator
        for name in chosen
    }
