"""Why a proof could not be made or checked, as short codes safe to log and show."""

from __future__ import annotations

from typing import Final

NO_PROOF: Final = "no-proof"
"""The reply has no ``proof`` member, or it is not a string."""
MALFORMED: Final = "malformed"
"""The proof is not a detached compact JWS with the expected header, or the reply is not JSON."""
UNSUPPORTED_ALG: Final = "unsupported-alg"
UNKNOWN_KID: Final = "unknown-kid"
"""The signing key is not (or no longer) listed in the JWKS."""
BAD_SIGNATURE: Final = "bad-signature"
"""The reply or the protected header was changed after signing, or the key does not match."""
REQUEST_MISMATCH: Final = "request-mismatch"
"""The reply is genuine but answers another request."""
BAD_JWKS: Final = "bad-jwks"
BAD_KEY: Final = "bad-key"
"""A private key file or ``PARTICULIER_SIGNING_KEY`` is not a usable Ed25519 JWK."""
NO_KEY: Final = "no-key"
"""No key ring where one was configured."""
CURRENT_KEY: Final = "current-key"
"""The current key cannot be retired: generate its successor first."""


class CertificationError(Exception):
    """A proof failed to be made or checked.

    The message is only a reason code (see the constants of this module): replies hold personal
    data and keys are secrets, so neither ever goes into the exception text.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
