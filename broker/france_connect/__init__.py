"""FranceConnect mode: a citizen's FranceConnect access token instead of their identity.

The worker introspects the token at FranceConnect (:class:`Introspector`) and reads the
identity and the consented scopes from the answer (:meth:`Introspection.civility`). See
``docs/architecture.md``; the mode's wiring into the pipeline is issue 13's next step.
"""

from ._identity import civility_of
from ._introspection import (
    DECRYPTION,
    SIGNATURE,
    FranceConnectError,
    Introspection,
    Introspector,
)

__all__ = [
    "DECRYPTION",
    "SIGNATURE",
    "FranceConnectError",
    "Introspection",
    "Introspector",
    "civility_of",
]
