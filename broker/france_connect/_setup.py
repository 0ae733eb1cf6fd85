"""The broker's side of FranceConnect: its encryption keys, and the introspector a worker uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from ..config import Settings
from ._introspection import DECRYPTION, Introspector

__all__ = ["connect", "encryption_jwks", "new_encryption_key", "private_keys"]


def new_encryption_key() -> dict[str, Any]:
    """A fresh RSA key (2048 bits) for FranceConnect to encrypt introspection answers to."""
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    jwk: dict[str, Any] = dict(key.as_dict(private=True))
    jwk.update(use="enc", alg=DECRYPTION[0])
    return jwk


def private_keys(path: str | Path) -> list[dict[str, Any]]:
    """The private keys of the file ``path`` (a JWKS, or one JWK)."""
    loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    keys = loaded.get("keys", [loaded]) if isinstance(loaded, dict) else []
    return [dict(k) for k in keys]


def encryption_jwks(path: str | Path) -> dict[str, Any]:
    """The public half of the broker's encryption keys: what it publishes for FranceConnect."""
    public = []
    for jwk in private_keys(path):
        key = RSAKey.import_key(jwk)
        shown: dict[str, Any] = dict(key.as_dict(private=False))
        shown.update(use="enc", alg=DECRYPTION[0])
        if "kid" in jwk:
            shown["kid"] = jwk["kid"]
        public.append(shown)
    return {"keys": public}


def connect(config: Settings) -> Introspector | None:
    """The worker's introspector, or ``None`` when FranceConnect mode is not configured."""
    if not config.france_connect_key:
        return None
    base = config.france_connect_base().rstrip("/")
    return Introspector(
        f"{base}/api/v2/token/introspect",
        client_id=config.france_connect_client_id,
        client_secret=config.france_connect_client_secret,
        signing_jwks_url=f"{base}/api/v2/jwks",
        decryption_keys=private_keys(config.france_connect_key),
    )
