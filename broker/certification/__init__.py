"""Certified replies: every reply carries a proof of origin bound to its request.

The proof is a compact JWS (RFC 7515) with detached payload, EdDSA/Ed25519, over the RFC 8785
canonical reply without its ``proof`` member; its protected header names the signing key, the
issue time, the dataset and the hash of the request. ``docs/certification.md`` is the
specification a verifier in any language can be written from.
"""

from __future__ import annotations

from ._canonical import canonical, reply_digest, request_hash
from ._errors import CertificationError
from ._jws import Certifier, Verifier, sealed_request_hash
from ._keys import KeyRing

__all__ = [
    "CertificationError",
    "Certifier",
    "KeyRing",
    "Verifier",
    "canonical",
    "reply_digest",
    "request_hash",
    "sealed_request_hash",
]
