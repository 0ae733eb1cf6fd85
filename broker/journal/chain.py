"""The hash chain: each row's keyed hash covers its content and the previous row's hash.

The canonical form is a JSON array of the row's fields in a fixed order (compact JSON; timestamps
as integer microseconds since the Unix epoch), so that the writer and ``verify``, which
reads the values back from PostgreSQL, hash exactly the same bytes.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .entry import ENTRY_COLUMNS

__all__ = [
    "FIELDS",
    "GENESIS",
    "anchor_mac",
    "head_mac",
    "row_hash",
    "utc",
]

FIELDS = ("seq", "recorded_at", *ENTRY_COLUMNS)
"""The hashed columns, in hashing order."""

_LATER = ("editor", "agent")
"""Columns added after the first rows were chained (migration 0006): a row where they are all
null hashes as before (format ``j1``), one that holds any of them as ``j2``, which covers
them too. Clearing them in a ``j2`` row changes its hash: the chain still tells."""
_J1 = tuple(f for f in FIELDS if f not in _LATER)

GENESIS = bytes(32)
"""The "previous hash" of the very first row."""

_FORMAT = "j1"


def utc(ts: datetime) -> datetime:
    """``ts`` in UTC; a naive timestamp is taken to be UTC already."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _timestamp(ts: datetime) -> int:
    return (utc(ts) - _EPOCH) // _MICROSECOND


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_TIMESTAMPS = frozenset({"recorded_at", "at"})


def hashed_form(row: Mapping[str, Any]) -> bytes:
    """The bytes of a row that its hash covers: a JSON array of its format and ``FIELDS``
    (``j1``: those of the first rows; ``j2``: all)."""
    later = any(row[name] is not None for name in _LATER)
    values: list[Any] = ["j2" if later else _FORMAT]
    for name in FIELDS if later else _J1:
        value = row[name]
        if name in _TIMESTAMPS:
            value = _timestamp(value)
        elif name == "scopes":
            value = list(value)
        values.append(value)
    return _ENCODER.encode(values).encode()


def row_hash(key: bytes, prev_hash: bytes, row: Mapping[str, Any]) -> bytes:
    return hmac.digest(key, prev_hash + hashed_form(row), "sha256")


def head_mac(key: bytes, seq: int, hash_: bytes) -> bytes:
    """Seals the chain's end, so that deleting the last rows is noticed too."""
    return hmac.digest(key, b"head\0" + seq.to_bytes(8, "big", signed=True) + hash_, "sha256")


def anchor_mac(key: bytes, seq: int, hash_: bytes) -> bytes:
    """Seals where the chain starts after a purge, so that dropping more is noticed."""
    return hmac.digest(key, b"anchor\0" + seq.to_bytes(8, "big", signed=True) + hash_, "sha256")
