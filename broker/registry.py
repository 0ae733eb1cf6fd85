"""Discovery of provider packages: every sub-package of :mod:`workers` exposing ``PROVIDER``.

Adding a provider is adding a package; nothing here names one.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .kit import Dataset, Provider

__all__ = ["dataset", "datasets", "package", "provider", "providers"]


@cache
def providers() -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    for module in _packages().values():
        declared = getattr(importlib.import_module(module), "PROVIDER", None)
        if isinstance(declared, Provider):
            found[declared.name] = declared
    return found


@cache
def _packages() -> dict[str, str]:
    import workers

    return {
        info.name: f"workers.{info.name}"
        for info in sorted(pkgutil.iter_modules(workers.__path__), key=lambda i: i.name)
        if info.ispkg
    }


def package(name: str) -> str:
    """The import name of provider ``name``'s package (its simulator is ``<package>.simulator``)."""
    provider(name)
    return _packages()[name]


def provider(name: str) -> Provider:
    try:
        return providers()[name]
    except KeyError:
        raise LookupError(f"unknown provider {name!r}") from None


def datasets() -> list[Dataset]:
    """Every dataset in every version, in a stable order."""
    return [d for p in providers().values() for d in p.datasets]


def dataset(dataset_id: str, version: int | None = None) -> Dataset | None:
    """The dataset in ``version``, or its newest version; ``None`` when unknown."""
    found = providers().get(dataset_id.split(".", 1)[0])
    return found.dataset(dataset_id, version) if found else None
