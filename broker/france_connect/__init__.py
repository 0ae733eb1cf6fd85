"""FranceConnect mode: a citizen's FranceConnect access token instead of their identity.

The worker introspects the token at FranceConnect (:class:`Introspector`) and reads the
identity and the consented scopes from the answer (:meth:`Introspection.civility`). See
``docs/architecture.md``.
"""

from ..errors import ProviderErrors
from ._identity import IDENTITY_PARAMETERS, carried, civility_of, claims_of
from ._introspection import (
    DECRYPTION,
    SIGNATURE,
    FranceConnectError,
    Introspection,
    Introspector,
)
from ._setup import connect, encryption_jwks, new_encryption_key, private_keys

ERRORS = ProviderErrors(label="FranceConnect", number=51)
"""FranceConnect itself unreachable, slow, or answering what cannot be trusted (``51xxx``)."""

__all__ = [
    "DECRYPTION",
    "ERRORS",
    "IDENTITY_PARAMETERS",
    "SIGNATURE",
    "FranceConnectError",
    "Introspection",
    "Introspector",
    "carried",
    "civility_of",
    "claims_of",
    "connect",
    "encryption_jwks",
    "new_encryption_key",
    "private_keys",
]
