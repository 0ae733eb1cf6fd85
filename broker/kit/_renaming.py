"""Field renaming between API Particulier's shape and an upstream's own dialect.

One table per shape serves both directions: the worker decodes upstream answers with it, the
simulator encodes its records with it, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = ["Record", "Renaming", "Shape"]

Shape = Mapping[str, str | tuple[str, "Shape"]]
"""API name -> upstream name, or (upstream name, nested shape) for objects and lists of them."""


class Renaming:
    """Renames keys recursively; values are left as they are, ``None`` included."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def encode(self, api: Any) -> Any:
        """API Particulier shape -> upstream dialect."""
        return _rename(api, self.shape, forward=True)

    def decode(self, upstream: Any) -> Any:
        """Upstream dialect -> API Particulier shape; absent fields stay absent."""
        return _rename(upstream, self.shape, forward=False)


@dataclass(frozen=True)
class Record:
    """A dataset's data: the model a decoded record must fit and its renaming to the upstream."""

    model: type[BaseModel]
    renaming: Renaming


def _rename(value: Any, shape: Shape, *, forward: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_rename(v, shape, forward=forward) for v in value]
    if not isinstance(value, Mapping):
        raise TypeError(type(value).__name__)
    out: dict[str, Any] = {}
    for api_name, target in shape.items():
        upstream_name, nested = (target, None) if isinstance(target, str) else target
        src, dst = (api_name, upstream_name) if forward else (upstream_name, api_name)
        if src not in value:
            continue
        item = value[src]
        out[dst] = _rename(item, nested, forward=forward) if nested is not None else item
    return out
