"""Proofs of origin, as an agency checks them: canonical form, request hash, verification.

The worker signs with the same definitions (:mod:`broker.certification`), so the two sides
cannot disagree on what was signed.
"""

from ._canonical import b64url, b64url_decode, canonical, reply_digest, request_hash
from ._reasons import (
    BAD_JWKS,
    BAD_KEY,
    BAD_SIGNATURE,
    CURRENT_KEY,
    MALFORMED,
    NO_KEY,
    NO_PROOF,
    REQUEST_MISMATCH,
    UNKNOWN_KID,
    UNSUPPORTED_ALG,
    CertificationError,
)
from ._verify import (
    ALG,
    PROOF,
    SIGNATURE_BYTES,
    Verifier,
    ed25519_verify,
    parse_header,
    sealed_request_hash,
)

__all__ = [
    "ALG",
    "BAD_JWKS",
    "BAD_KEY",
    "BAD_SIGNATURE",
    "CURRENT_KEY",
    "MALFORMED",
    "NO_KEY",
    "NO_PROOF",
    "PROOF",
    "REQUEST_MISMATCH",
    "SIGNATURE_BYTES",
    "UNKNOWN_KID",
    "UNSUPPORTED_ALG",
    "CertificationError",
    "Verifier",
    "b64url",
    "b64url_decode",
    "canonical",
    "ed25519_verify",
    "parse_header",
    "reply_digest",
    "request_hash",
    "sealed_request_hash",
]
