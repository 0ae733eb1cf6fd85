"""Checking a reply's proof of origin with the broker's published JWKS: what an agency needs.

The proof is a detached-payload compact JWS (RFC 7515 appendix F), EdDSA/Ed25519, over the RFC
8785 canonical reply without its ``proof`` member (``docs/certification.md``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

import nacl.bindings
import nacl.exceptions

from ._canonical import b64url, b64url_decode, canonical
from ._reasons import (
    BAD_JWKS,
    BAD_SIGNATURE,
    MALFORMED,
    NO_PROOF,
    REQUEST_MISMATCH,
    UNKNOWN_KID,
    UNSUPPORTED_ALG,
    CertificationError,
)

__all__ = ["ALG", "PROOF", "Verifier", "ed25519_verify", "parse_header", "sealed_request_hash"]

ALG = "EdDSA"
PROOF = "proof"
SIGNATURE_BYTES = nacl.bindings.crypto_sign_BYTES


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.bindings.crypto_sign_open(signature + message, public)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def sealed_request_hash(sealed: bytes) -> str | None:
    """The ``request_hash`` a sealed reply's proof was bound to; ``None`` without a proof.

    The worker compares it with a republished request's own hash: one ``message_id``
    answers one request, not whatever a later copy asks."""
    try:
        header = parse_header(json.loads(sealed)[PROOF].split(".", 1)[0])
    except (CertificationError, KeyError, TypeError, AttributeError, ValueError):
        return None
    hashed: str = header["request_hash"]
    return hashed


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def parse_header(encoded: str) -> dict[str, Any]:
    try:
        header = json.loads(b64url_decode(encoded), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise CertificationError(MALFORMED) from None
    if not isinstance(header, dict):
        raise CertificationError(MALFORMED)
    if header.get("alg") != ALG:
        raise CertificationError(UNSUPPORTED_ALG if "alg" in header else MALFORMED)
    iat = header.get("iat")
    if (
        "crit" in header
        or header.get("b64", True) is not True
        or not isinstance(header.get("kid"), str)
        or not isinstance(header.get("request_hash"), str)
        or not isinstance(iat, int)
        or isinstance(iat, bool)
        or not isinstance(header.get("dataset", 0), str | None)
    ):
        raise CertificationError(MALFORMED)
    return header


class Verifier:
    """Checks proofs against a JWKS; keys other than Ed25519 signing keys are ignored."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(keys, list):
            raise CertificationError(BAD_JWKS)
        self._keys: dict[str, bytes] = {}
        for jwk in keys:
            if not isinstance(jwk, Mapping):
                raise CertificationError(BAD_JWKS)
            if (
                jwk.get("kty") != "OKP"
                or jwk.get("crv") != "Ed25519"
                or jwk.get("use", "sig") != "sig"
                or jwk.get("alg", ALG) != ALG
            ):
                continue
            kid, x = jwk.get("kid"), jwk.get("x")
            if not isinstance(kid, str) or not isinstance(x, str) or kid in self._keys:
                raise CertificationError(BAD_JWKS)
            try:
                public = b64url_decode(x)
            except ValueError:
                raise CertificationError(BAD_JWKS) from None
            if len(public) != nacl.bindings.crypto_sign_PUBLICKEYBYTES:
                raise CertificationError(BAD_JWKS)
            self._keys[kid] = public

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def verify(
        self, reply: Mapping[str, Any], *, request_hash: str | None = None
    ) -> dict[str, Any]:
        """The proof's protected header if ``reply`` is untouched and signed by a listed key.

        With ``request_hash``, the reply must also answer that very request. Raises
        :class:`CertificationError` with the reason otherwise.
        """
        proof = reply.get(PROOF)
        if not isinstance(proof, str):
            raise CertificationError(NO_PROOF)
        parts = proof.split(".")
        if len(parts) != 3 or parts[1] != "" or not parts[0]:
            raise CertificationError(MALFORMED)
        encoded_header, _, encoded_signature = parts
        header = parse_header(encoded_header)
        public = self._keys.get(header["kid"])
        if public is None:
            raise CertificationError(UNKNOWN_KID)
        try:
            signature = b64url_decode(encoded_signature)
        except ValueError:
            raise CertificationError(MALFORMED) from None
        if len(signature) != SIGNATURE_BYTES:
            raise CertificationError(MALFORMED)
        payload = canonical({k: v for k, v in reply.items() if k != PROOF})
        signing_input = encoded_header.encode("ascii") + b"." + b64url(payload)
        if not ed25519_verify(public, signing_input, signature):
            raise CertificationError(BAD_SIGNATURE)
        if request_hash is not None and not hmac.compare_digest(
            header["request_hash"].encode(), request_hash.encode()
        ):
            raise CertificationError(REQUEST_MISMATCH)
        return header
