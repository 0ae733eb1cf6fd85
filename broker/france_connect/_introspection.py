"""FranceConnect token introspection, as FranceConnect v2 answers it.

The worker posts ``client_id``, ``client_secret`` and the citizen's ``token``; FranceConnect
answers a JWT signed with its own key (ES256, from its JWKS) and encrypted to the broker's key
(JWE, RSA-OAEP-256). An answer that does not decrypt with one of the broker's keys, or whose
signature does not verify with FranceConnect's, is never trusted. One sign-in serves several
requests: an answer is kept until the token's ``exp``, never longer.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ._identity import civility_of

__all__ = [
    "DECRYPTION",
    "SIGNATURE",
    "FranceConnectError",
    "Introspection",
    "Introspector",
]

SIGNATURE = "ES256"
"""The algorithm FranceConnect signs introspection answers with."""
DECRYPTION = ("RSA-OAEP-256", "A256GCM")
"""The key management and content encryption of introspection answers."""

_JWE = jwe.JWERegistry(algorithms=list(DECRYPTION))
_IDENTITY = (
    "family_name",
    "given_name",
    "given_name_array",
    "birthdate",
    "birthplace",
    "birthcountry",
    "gender",
)
_MAX_TOKEN = 2048


class FranceConnectError(Exception):
    """Why a token could not be used: a reason code, never the token nor any claim."""

    MALFORMED = "malformed"
    INACTIVE = "inactive"
    UNTRUSTED = "untrusted"
    UNREACHABLE = "unreachable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Introspection:
    """What FranceConnect says of an active token."""

    subject: str
    """``sub``: the citizen, as FranceConnect identifies them to this client."""
    client: str
    """``aud`` of the token: the FranceConnect client (an agency's service) that obtained it."""
    scopes: frozenset[str]
    """What the citizen consented to."""
    expires_at: float
    """``exp``, seconds since the Unix epoch."""
    claims: Mapping[str, Any] = field(repr=False)
    """The identity claims only (``family_name``, ``birthdate``...)."""

    def civility(self) -> dict[str, Any]:
        """The identity in API Particulier v3's parameter names."""
        return civility_of(self.claims)


class Introspector:
    """Asks FranceConnect about tokens, and remembers each answer until the token expires."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        client_secret: str,
        signing_jwks: Mapping[str, Any] | None = None,
        signing_jwks_url: str | None = None,
        decryption_keys: Sequence[Mapping[str, Any]],
        timeout: float = 5.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._form = {"client_id": client_id, "client_secret": client_secret}
        self._signing = _key_set(signing_jwks) if signing_jwks is not None else None
        self._signing_url = signing_jwks_url
        self._decryption = KeySet.import_key_set({"keys": [dict(k) for k in decryption_keys]})
        self._http = httpx.AsyncClient(timeout=timeout)
        self._cache: OrderedDict[str, Introspection] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock
        self.calls = 0
        """Introspections sent to FranceConnect (the cache's misses)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def introspect(self, token: str) -> Introspection:
        """The active token's introspection, or :class:`FranceConnectError`."""
        if not token or len(token) > _MAX_TOKEN or not token.isascii() or not token.isprintable():
            raise FranceConnectError(FranceConnectError.MALFORMED)
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None:
            if cached.expires_at > now:
                self._cache.move_to_end(key)
                return cached
            del self._cache[key]
        answer = await self._ask(token)
        found = self._read(answer, now, await self._signing_keys())
        self._cache[key] = found
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    async def _signing_keys(self) -> KeySet:
        """FranceConnect's signing keys, fetched from its JWKS on first use."""
        if self._signing is None:
            if self._signing_url is None:
                raise FranceConnectError(FranceConnectError.UNTRUSTED)
            try:
                response = await self._http.get(self._signing_url)
                response.raise_for_status()
                self._signing = _key_set(response.json())
            except (httpx.HTTPError, ValueError, JoseError):
                raise FranceConnectError(FranceConnectError.UNREACHABLE) from None
        return self._signing

    async def _ask(self, token: str) -> bytes:
        self.calls += 1
        try:
            response = await self._http.post(self.url, data={**self._form, "token": token})
        except httpx.HTTPError:
            raise FranceConnectError(FranceConnectError.UNREACHABLE) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise FranceConnectError(FranceConnectError.UNREACHABLE)
        if response.status_code != 200:
            raise FranceConnectError(FranceConnectError.UNTRUSTED)
        return response.content

    def _read(self, answer: bytes, now: float, signing: KeySet) -> Introspection:
        try:
            signed = jwe.decrypt_compact(answer, self._decryption, registry=_JWE).plaintext
            verified = jwt.decode(signed or b"", signing, algorithms=[SIGNATURE])
        except (JoseError, ValueError, TypeError):
            raise FranceConnectError(FranceConnectError.UNTRUSTED) from None
        body = verified.claims.get("token_introspection")
        if not isinstance(body, dict):
            raise FranceConnectError(FranceConnectError.UNTRUSTED)
        exp, sub, aud = body.get("exp"), body.get("sub"), body.get("aud")
        if body.get("active") is not True or not isinstance(exp, int | float) or exp <= now:
            raise FranceConnectError(FranceConnectError.INACTIVE)
        if not isinstance(sub, str) or not isinstance(aud, str):
            raise FranceConnectError(FranceConnectError.UNTRUSTED)
        scope = body.get("scope")
        return Introspection(
            subject=sub,
            client=aud,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            expires_at=float(exp),
            claims={k: body[k] for k in _IDENTITY if k in body},
        )


def _key_set(jwks: Mapping[str, Any]) -> KeySet:
    listed = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(listed, list):
        raise ValueError("not a JWKS")
    return KeySet.import_key_set({"keys": [dict(k) for k in listed]})
