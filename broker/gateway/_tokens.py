"""The gateway's bearer tokens: issued per agency, kept as SHA-256 digests, expiring, revocable.

A token is 32 random bytes (base64url): its SHA-256 identifies it without the table ever
holding it, and a guess is hopeless without a slow hash. The gateway looks a token up once and
keeps the answer ``ttl`` seconds, so that a revocation bites within that delay.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import asyncpg

__all__ = [
    "IssuedToken",
    "TokenInfo",
    "TokenState",
    "TokenStore",
    "issue_token",
    "list_tokens",
    "revoke_token",
]

DEFAULT_LIFETIME = timedelta(days=548)
"""API Particulier's tokens are valid 18 months."""


class TokenState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class TokenInfo:
    id: int
    agency: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def state(self) -> TokenState:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        return TokenState.EXPIRED if self.expires_at <= datetime.now(UTC) else TokenState.VALID


@dataclass(frozen=True)
class IssuedToken:
    info: TokenInfo
    token: str
    """Shown once: the table keeps only its digest."""


_SELECT = """
SELECT t.id, a.name AS agency, t.label, t.created_at, t.expires_at, t.revoked_at
FROM gateway_tokens t JOIN agencies a ON a.id = t.agency_id
"""


async def issue_token(
    conn: asyncpg.Connection,
    agency: str,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    label: str = "",
) -> IssuedToken:
    """A new token for ``agency`` (its name, or its id); ``LookupError`` when none."""
    token = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        "INSERT INTO gateway_tokens (agency_id, token_sha256, label, expires_at)"
        " SELECT id, $2, $3, now() + $4::interval FROM agencies"
        " WHERE name = $1 OR id::text = $1 ORDER BY name = $1 DESC LIMIT 1 RETURNING id",
        agency,
        _digest(token),
        label,
        lifetime,
    )
    if row is None:
        raise LookupError(agency)
    info = await conn.fetchrow(_SELECT + " WHERE t.id = $1", row["id"])
    return IssuedToken(TokenInfo(**dict(info)), token)


async def revoke_token(conn: asyncpg.Connection, token_id: int) -> bool:
    status = await conn.execute(
        "UPDATE gateway_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return bool(status.endswith(" 1"))


async def list_tokens(conn: asyncpg.Connection, *, agency: str | None = None) -> list[TokenInfo]:
    rows = await conn.fetch(
        _SELECT + " WHERE ($1::text IS NULL OR a.name = $1) ORDER BY a.name, t.id", agency
    )
    return [TokenInfo(**dict(r)) for r in rows]


class TokenStore:
    """What a bearer token stands for, as the gateway asks it (the application role)."""

    def __init__(self, pool: asyncpg.Pool, *, ttl: float = 2.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self._known: dict[bytes, tuple[float, TokenState, str | None]] = {}

    async def agency_of(self, token: str) -> tuple[TokenState, str | None]:
        """``(state, agency name)`` of ``token``; the agency only when valid."""
        digest = _digest(token)
        now = time.monotonic()
        known = self._known.get(digest)
        if known is not None and now - known[0] < self.ttl:
            return known[1], known[2]
        row = await self.pool.fetchrow(_SELECT + " WHERE t.token_sha256 = $1", digest)
        if row is None:
            state, agency = TokenState.UNKNOWN, None
        else:
            info = TokenInfo(**dict(row))
            state = info.state
            agency = info.agency if state is TokenState.VALID else None
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[digest] = (now, state, agency)
        return state, agency
