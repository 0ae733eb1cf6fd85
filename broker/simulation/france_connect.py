"""A FranceConnect simulator: token introspection as FranceConnect v2 answers it.

- ``POST /api/v2/token/introspect`` (form: ``client_id``, ``client_secret``, ``token``): a JWT
  signed with the simulator's key (ES256) and encrypted to the broker's key (RSA-OAEP-256,
  A256GCM), whose ``token_introspection`` says whether the token is active, its client
  (``aud``), subject, expiry, consented ``scope`` and identity claims;
- ``GET /api/v2/jwks``: the simulator's signing keys;
- ``POST /_admin/tokens`` with FranceConnect claims (``family_name``, ``given_name``,
  ``birthdate``, ``gender``, ``birthplace``, ``birthcountry``, ``scope``, optional ``aud`` and
  ``expires_in``) mints a token: ``{"access_token": ...}``;
- ``POST /_admin/revoke`` with ``{"token": ...}`` makes a token inactive;
- ``PUT /_admin/forgery`` with ``{"forgery": "signature" | "encryption" | null}`` makes every
  answer untrustworthy (signed by another key, or encrypted to another key than the broker's)
  until it is set back to ``null``. The frame's faults (latency, down...) apply as to any
  simulator (``/_admin/faults?provider=france_connect``).

Staging's test tokens (``shared/france-connect/tokens/``: ``all_fc``, ``ants``, ``cnaf_qfv2``...)
are preloaded; as their recorded times are long past, each is answered as if just issued, with
its recorded lifetime.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiohttp import web
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from ..france_connect import DECRYPTION, SIGNATURE
from ..habilitations import DEMO_FRANCE_CONNECT_CLIENT
from ._frame import shared_dir

__all__ = [
    "DEFAULT_CLIENT_ID",
    "FranceConnect",
    "build_france_connect",
    "mint_token",
    "staging_tokens",
]

DEFAULT_CLIENT_ID = DEMO_FRANCE_CONNECT_CLIENT
"""The client staging's test tokens were issued to (their ``aud``): the demo agency's."""
ISSUER = "https://fcp-low.integ01.dev-franceconnect.fr/api/v2"
_JWE = jwe.JWERegistry(algorithms=list(DECRYPTION))
_IDENTITY_CLAIMS = (
    "family_name",
    "given_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
)


def _subject(claims: Mapping[str, Any]) -> str:
    """FranceConnect's ``sub``: the same for one citizen at one service, token after token
    (pairwise), and telling nothing of the identity."""
    who = [claims.get(k) for k in ("aud", *_IDENTITY_CLAIMS)]
    return hashlib.sha256(json.dumps(who, sort_keys=True).encode()).hexdigest() + "v1"


@dataclass
class _Token:
    claims: dict[str, Any]
    lifetime: int
    issued_at: int | None = None
    """``None`` for a preloaded token: its clock starts at its first introspection."""
    revoked: bool = False


@dataclass
class FranceConnect:
    """The simulator's state: its signing key, the broker's encryption keys, its tokens."""

    encryption_jwks: Sequence[Mapping[str, Any]]
    """The broker's public encryption keys (RSA), to which answers are encrypted."""
    clients: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_CLIENT_ID: "secret"})
    """client_id -> client_secret of the FranceConnect clients it knows."""
    signing_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))
    tokens: dict[str, _Token] = field(default_factory=dict)
    introspections: int = 0
    forgery: str | None = None
    """``signature`` or ``encryption``: answers the broker must never trust."""

    def __post_init__(self) -> None:
        self.signing_key.ensure_kid()

    def jwks(self) -> dict[str, Any]:
        public = dict(self.signing_key.as_dict(private=False))
        public.update(use="sig", alg=SIGNATURE)
        return {"keys": [public]}

    def mint(self, claims: Mapping[str, Any], *, expires_in: int = 60) -> str:
        token = secrets.token_urlsafe(32)
        body = {"aud": DEFAULT_CLIENT_ID, **claims}
        body.setdefault("sub", _subject(body))
        self.tokens[token] = _Token(dict(body), expires_in, issued_at=int(time.time()))
        return token

    def load(self, tokens: Mapping[str, Mapping[str, Any]]) -> None:
        """Preload recorded introspection answers, by token."""
        for name, recorded in tokens.items():
            body = dict(recorded["token_introspection"])
            lifetime = int(body.get("exp", 60)) - int(body.get("iat", 0))
            self.tokens[name] = _Token(body, max(lifetime, 1))

    def answer(self, token: str, client_id: str) -> bytes:
        """The encrypted, signed introspection answer for ``token``."""
        self.introspections += 1
        now = int(time.time())
        known = self.tokens.get(token)
        if known is not None and known.issued_at is None:
            known.issued_at = now
        active = (
            known is not None
            and not known.revoked
            and known.issued_at is not None
            and now < known.issued_at + known.lifetime
        )
        if known is None or not active:
            body: dict[str, Any] = {"active": False}
        else:
            assert known.issued_at is not None
            body = {
                **known.claims,
                "active": True,
                "iat": known.issued_at,
                "exp": known.issued_at + known.lifetime,
            }
        claims = {"aud": client_id, "iat": now, "iss": ISSUER, "token_introspection": body}
        header = {"alg": SIGNATURE, "kid": self.signing_key.kid, "typ": "JWT"}
        signer = self.signing_key
        if self.forgery == "signature":
            signer = ECKey.generate_key("P-256", private=True)
        signed = jwt.encode(header, claims, signer)
        keys = KeySet.import_key_set({"keys": [dict(k) for k in self.encryption_jwks]})
        recipient = keys.keys[0]
        if self.forgery == "encryption":
            recipient = RSAKey.generate_key(2048, private=False, auto_kid=True)
        protected = {"alg": DECRYPTION[0], "enc": DECRYPTION[1], "cty": "JWT"}
        if recipient.kid:
            protected["kid"] = recipient.kid
        return jwe.encrypt_compact(protected, signed, recipient, registry=_JWE).encode()


async def mint_token(base_url: str, claims: Mapping[str, Any]) -> str:
    """A token minted by the FranceConnect simulator at ``base_url`` (its ``/france_connect``)
    for ``claims``: what tests and the demo send as a citizen's token."""
    async with httpx.AsyncClient() as http:
        minted = await http.post(f"{base_url.rstrip('/')}/_admin/tokens", json=dict(claims))
    minted.raise_for_status()
    return str(minted.json()["access_token"])


def staging_tokens(folders: Iterable[Path] | None = None) -> dict[str, dict[str, Any]]:
    """Staging's recorded introspection answers, by token name."""
    if folders is None:
        shared = shared_dir()
        folders = [shared / "france-connect" / "tokens"] if shared is not None else []
    found: dict[str, dict[str, Any]] = {}
    for folder in folders:
        for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
            case = yaml.safe_load(path.read_text(encoding="utf-8"))
            token = (case.get("params") or {}).get("token")
            if token and case.get("status") == 200:
                found[str(token)] = json.loads(case["payload"])
    return found


def build_france_connect(state: FranceConnect) -> web.Application:
    async def introspect(request: web.Request) -> web.Response:
        form = await request.post()
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if state.clients.get(client_id) != secret or not secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = str(form.get("token", ""))
        if not token:
            return web.json_response({"error": "invalid_request"}, status=400)
        return web.Response(
            body=state.answer(token, client_id),
            content_type="application/token-introspection+jwt",
        )

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response(state.jwks())

    async def mint(request: web.Request) -> web.Response:
        try:
            claims = await request.json()
            expires_in = int(claims.pop("expires_in", 60))
        except (ValueError, TypeError, AttributeError):
            return web.json_response({"error": "a JSON object of claims"}, status=400)
        return web.json_response({"access_token": state.mint(claims, expires_in=expires_in)})

    async def revoke(request: web.Request) -> web.Response:
        try:
            token = str((await request.json())["token"])
        except (ValueError, TypeError, KeyError):
            return web.json_response({"error": '{"token": ...}'}, status=400)
        if token in state.tokens:
            state.tokens[token].revoked = True
        return web.json_response({"revoked": token in state.tokens})

    async def forge(request: web.Request) -> web.Response:
        try:
            forgery = (await request.json())["forgery"]
        except (ValueError, TypeError, KeyError):
            forgery = ""
        if forgery not in (None, "signature", "encryption"):
            return web.json_response({"error": _FORGERY}, status=400)
        state.forgery = forgery
        return web.json_response({"forgery": forgery})

    app = web.Application()
    app.router.add_post("/api/v2/token/introspect", introspect)
    app.router.add_get("/api/v2/jwks", jwks)
    app.router.add_post("/_admin/tokens", mint)
    app.router.add_post("/_admin/revoke", revoke)
    app.router.add_put("/_admin/forgery", forge)
    return app


_FORGERY = '{"forgery": "signature" | "encryption" | null}'
