"""The reply cache: providers' answers kept in PostgreSQL for every worker replica.

What is kept is the provider's answer before any requester's mask (data, or "nobody found"),
so that each disclosure from the cache is still authorised, masked by its requester's own
scopes, signed and journaled like a fresh one. The cache holds personal data: a row is
indexed by a keyed hash of what it answers (dataset, version, route, normalised parameters,
and in FranceConnect mode the token's subject) and sealed with AES-256-GCM, both keys derived
from ``PARTICULIER_CACHE_KEY``. Changing that key leaves every older row unreadable: they are
misses, replaced as they are asked again, and expire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..certification import canonical
from ..db.grouped import Grouped

__all__ = ["CacheSettings", "CachedAnswer", "ReplyCache", "cache_secret"]

log = logging.getLogger("particulier.cache")

_NONCE_BYTES = 12


class CacheSettings(BaseSettings):
    """``PARTICULIER_CACHE_KEY``, ``PARTICULIER_CACHE`` and ``PARTICULIER_CACHE_MAX_ENTRIES``."""

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    cache: bool = True
    """Off: every request asks its provider (the datasets' lifetimes are ignored)."""
    cache_key: SecretStr | None = None
    cache_max_entries: int = 1_000_000
    """Rows kept at most; past it the soonest to expire go first."""


@cache
def cache_secret() -> bytes:
    """The secret the cache's index and sealing keys derive from."""
    value = CacheSettings().cache_key
    secret = value.get_secret_value() if value is not None else ""
    if not secret:
        log.warning(
            "PARTICULIER_CACHE_KEY is not set: the reply cache is sealed with a development "
            "key that anyone can recompute; never use it with real traffic"
        )
        return hashlib.sha256(b"api-particulier-broker development cache key").digest()
    return secret.encode()


def _derived(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A provider's answer as the cache gives it back."""

    data: dict[str, Any] | None
    """The unmasked data, or ``None`` when the provider found nobody."""
    error: dict[str, Any] | None
    """The provider's "nobody found" error object (status 404), when ``data`` is ``None``."""
    expires_in: int
    """Seconds the row is still kept."""


class ReplyCache:
    """Reads and writes the ``reply_cache`` table; every method may raise the pool's errors,
    which the worker counts and reads as a miss. Look-ups and writes made while one is in
    flight go together in the next statement (:class:`~broker.db.grouped.Grouped`)."""

    def __init__(
        self, pool: asyncpg.Pool, *, secret: bytes | None = None, max_entries: int | None = None
    ) -> None:
        self.pool = pool
        secret = secret if secret is not None else cache_secret()
        self._index = _derived(secret, b"particulier reply cache index")
        self._seal = AESGCM(_derived(secret, b"particulier reply cache seal"))
        self.max_entries = (
            max_entries if max_entries is not None else CacheSettings().cache_max_entries
        )
        self._reads = Grouped(self._read)
        self._writes = Grouped(self._write)

    def key_of(
        self,
        dataset: str,
        version: int,
        route: str,
        params: Mapping[str, Any],
        subject: str | None = None,
    ) -> bytes:
        """The row's key: a keyed hash, so that the table names nobody."""
        asked = canonical([dataset, version, route, dict(params), subject])
        return hmac.new(self._index, asked, hashlib.sha256).digest()

    async def get(self, key: bytes) -> CachedAnswer | None:
        """The answer kept under ``key``, if any and not expired."""
        row = await self._reads(key)
        if row is None:
            return None
        sealed, left = row
        try:
            plain = self._seal.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], key)
        except InvalidTag:
            return None  # sealed under another key
        kept = json.loads(plain)
        return CachedAnswer(kept.get("data"), kept.get("error"), max(1, int(left)))

    async def put(
        self,
        key: bytes,
        *,
        dataset: str,
        lifetime: int,
        data: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep an answer (``data``, or the ``error`` of nobody found) for ``lifetime`` s."""
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps({"data": data, "error": error}, separators=(",", ":")).encode()
        sealed = nonce + self._seal.encrypt(nonce, plain, key)
        expires = datetime.now(UTC) + timedelta(seconds=lifetime)
        await self._writes((key, dataset, expires, sealed))

    async def _read(self, keys: Sequence[bytes]) -> list[tuple[bytes, float] | None]:
        rows = await self.pool.fetch(
            "SELECT key, sealed, extract(epoch FROM expires_at - now()) AS left_s"
            " FROM reply_cache WHERE key = ANY($1::bytea[]) AND expires_at > now()",
            list(keys),
        )
        found = {bytes(r["key"]): (bytes(r["sealed"]), float(r["left_s"])) for r in rows}
        return [found.get(key) for key in keys]

    async def _write(self, rows: Sequence[tuple[bytes, str, datetime, bytes]]) -> list[None]:
        latest = {row[0]: row for row in rows}  # one statement cannot upsert a key twice
        keys, datasets, expires, sealed = zip(*latest.values(), strict=True)
        await self.pool.execute(
            "INSERT INTO reply_cache (key, provider, dataset, expires_at, sealed)"
            " SELECT k, split_part(d, '.', 1), d, e, s"
            " FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::bytea[]) AS t(k, d, e, s)"
            " ON CONFLICT (key) DO UPDATE SET stored_at = now(),"
            " expires_at = EXCLUDED.expires_at, sealed = EXCLUDED.sealed",
            list(keys),
            list(datasets),
            list(expires),
            list(sealed),
        )
        return [None] * len(rows)

    async def trim(self) -> int:
        """Drop expired rows, then the soonest to expire past ``max_entries``; rows dropped."""
        expired = await self.pool.execute("DELETE FROM reply_cache WHERE expires_at <= now()")
        over = await self.pool.execute(
            "DELETE FROM reply_cache WHERE key IN (SELECT key FROM reply_cache"
            " ORDER BY expires_at DESC OFFSET $1)",
            self.max_entries,
        )
        return _count(expired) + _count(over)

    async def purge(self, *, provider: str | None = None, dataset: str | None = None) -> int:
        """Drop every row (of a provider, or of a dataset); rows dropped."""
        status = await self.pool.execute(
            "DELETE FROM reply_cache WHERE ($1::text IS NULL OR provider = $1)"
            " AND ($2::text IS NULL OR dataset = $2)",
            provider,
            dataset,
        )
        return _count(status)

    async def stats(self) -> list[tuple[str, int, int]]:
        """``(dataset, rows kept, rows expired)`` per dataset."""
        rows = await self.pool.fetch(
            "SELECT dataset, count(*) FILTER (WHERE expires_at > now()) AS kept,"
            " count(*) FILTER (WHERE expires_at <= now()) AS expired"
            " FROM reply_cache GROUP BY dataset ORDER BY dataset"
        )
        return [(r["dataset"], r["kept"], r["expired"]) for r in rows]


def _count(status: str) -> int:
    """The row count of a command status such as ``DELETE 12``."""
    return int(status.rsplit(" ", 1)[-1])
