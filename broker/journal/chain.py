"""The hash chain: each row's keyed hash covers its content and the previous row's hash.

The canonical form is a JSON array of the row's fields in a fixed order (``json.dumps`` with no
spaces; timestamps as UTC ISO 8601 with microseconds), so that the writer and ``verify``, which
reads the values back from PostgreSQL, hash exactly the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "FIELDS",
    "GENESIS",
    "anchor_mac",
    "head_mac",
    "row_hash",
    "utc",
]

FIELDS = (
    "seq",
    "recorded_at",
    "at",
    "message_id",
    "correlation_id",
    "requester",
    "agency",
    "habilitation_id",
    "recipient",
    "dataset",
    "version",
    "lane",
    "scopes",
    "status",
    "error_code",
    "upstream_latency_ms",
    "cached",
    "reply_digest",
    "subject",
)
"""The hashed columns, in hashing order."""

GENESIS = bytes(32)
"""The "previous hash" of the very first row."""

_FORMAT = "j1"


def utc(ts: datetime) -> datetime:
    """``ts`` in UTC; a naive timestamp is taken to be UTC already."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(
        [_FORMAT, *(_plain(row[f]) for f in FIELDS)],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def row_hash(key: bytes, prev_hash: bytes, row: Mapping[str, Any]) -> bytes:
    return hmac.new(key, prev_hash + canonical(row), hashlib.sha256).digest()


def head_mac(key: bytes, seq: int, hash_: bytes) -> bytes:
    """Seals the chain's end, so that deleting the last rows is noticed too."""
    return hmac.new(key, b"head\0" + seq.to_bytes(8, "big", signed=True) + hash_,
                    hashlib.sha256).digest()


def anchor_mac(key: bytes, seq: int, hash_: bytes) -> bytes:
    """Seals where the chain starts after a purge, so that dropping more is noticed."""
    return hmac.new(key, b"anchor\0" + seq.to_bytes(8, "big", signed=True) + hash_,
                    hashlib.sha256).digest()
