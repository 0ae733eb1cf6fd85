"""Certified replies: every reply carries a proof of origin bound to its request.

The proof is a compact JWS (RFC 7515) with detached payload, EdDSA/Ed25519, over the RFC 8785
canonical reply without its ``proof`` member; its protected header names the signing key, the
issue time, the dataset and the hash of the request. ``docs/certification.md`` is the
specification a verifier in any language can be written from. Checking a proof needs only the
JWKS and lives in the SDK (:mod:`broker.sdk.proof`); making one needs the key ring: here.
"""

from __future__ import annotations

import os
from typing import Any

from ..sdk.proof import (
    CertificationError,
    Verifier,
    canonical,
    reply_digest,
    request_hash,
    sealed_request_hash,
)
from ._jws import Certifier
from ._keys import KeyRing


def local_jwks() -> dict[str, Any] | None:
    """The JWKS the operator's own tools verify replies with: ``None`` when
    ``PARTICULIER_JWKS`` names it (the SDK reads it, and again after a rotation), else the local
    key ring's public keys. An agency's SDK has no key ring and always needs a JWKS."""
    if os.environ.get("PARTICULIER_JWKS"):
        return None
    return KeyRing.load().jwks()


__all__ = [
    "CertificationError",
    "Certifier",
    "KeyRing",
    "Verifier",
    "canonical",
    "local_jwks",
    "reply_digest",
    "request_hash",
    "sealed_request_hash",
]
