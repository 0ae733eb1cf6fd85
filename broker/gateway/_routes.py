"""API Particulier's REST routes, derived from the datasets' declarations.

Each dataset mirrors one route of API Particulier (``Dataset.route``; ``{identite,ine}`` for a
dataset asked by identity or by INE on two routes), and its FranceConnect route when it has
one (``Dataset.in_france_connect.route``). Nothing is listed by hand: a new dataset is served
by the gateway as soon as it is declared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..kit import Dataset

__all__ = ["Route", "query_pairs", "query_params", "routes_of"]

_BRACES = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    path: str
    dataset: str
    version: int
    france_connect: bool
    """The bearer token is the citizen's FranceConnect token, not the agency's."""


def _expand(route: str) -> list[str]:
    match = _BRACES.search(route)
    if match is None:
        return [route]
    head, tail = route[: match.start()], route[match.end() :]
    return [p for choice in match.group(1).split(",") for p in _expand(head + choice + tail)]


def routes_of(datasets: Iterable[Dataset]) -> dict[str, Route]:
    """Every route served, by path."""
    served: dict[str, Route] = {}
    for dataset in datasets:
        if dataset.identity:
            for path in _expand(dataset.route):
                served[path] = Route(path, dataset.id, dataset.version, False)
        if dataset.france_connect or not dataset.identity:
            path = dataset.in_france_connect.route
            served[path] = Route(path, dataset.id, dataset.version, True)
    return served


def query_params(
    query: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[str | None, dict[str, str | list[str]]]:
    """``(recipient, params)`` of a query string as API Particulier reads it: ``name[]``
    repeated makes a list (``prenoms[]=A&prenoms[]=B``), any other name its last value. Values
    stay text: the dataset's parameter model converts them as it converts JSON."""
    items = query.items() if isinstance(query, Mapping) else query
    params: dict[str, str | list[str]] = {}
    for name, value in items:
        if name.endswith("[]"):
            listed = params.setdefault(name[:-2], [])
            if isinstance(listed, list):
                listed.append(value)
        else:
            params[name] = value
    recipient = params.pop("recipient", None)
    return (recipient if isinstance(recipient, str) else None), params


def query_pairs(recipient: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query string an API Particulier client sends for ``params`` (the inverse of
    :func:`query_params`): ``name[]`` repeated for a list."""
    pairs = [("recipient", recipient)]
    for name, value in params.items():
        if isinstance(value, list):
            pairs += [(f"{name}[]", str(v)) for v in value]
        else:
            pairs.append((name, str(value)))
    return pairs
