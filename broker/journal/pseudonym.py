"""The subject's keyed pseudonym: how the journal names a person without storing who it is."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..certification import canonical as canonical_json
from .settings import pseudonym_key

__all__ = ["agent_pseudonym", "normalise", "pseudonym"]


def _text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.upper().split())


def normalise(value: Any) -> Any:
    """Fold what does not tell two people apart: case, accents, spacing, absent values.

    A citizen looking up their own accesses types "Élodie" where an agency sent "ELODIE"; both
    must give the same pseudonym.
    """
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set | frozenset):
        items = [normalise(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return _text(str(value))


def pseudonym(subject: Mapping[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) over the RFC 8785 canonical JSON of the normalised identifiers.

    ``subject`` is what ``Params.subject()`` returns. Without ``PARTICULIER_PSEUDONYM_KEY``
    nobody can tell from a pseudonym whom it names, nor test a guess.
    """
    canonical = canonical_json(normalise(subject))
    secret = key if key is not None else pseudonym_key()
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def agent_pseudonym(agency: str, agent: str, key: bytes | None = None) -> str:
    """The keyed hash of the agent at an agency's counter (API Particulier's planned
    ``X-Agent-Id``): the journal can tell one agent's requests from another's, and an agency
    that knows its agent's id can find them, but the id is never stored."""
    secret = key if key is not None else pseudonym_key()
    return hmac.new(secret, canonical_json(["agent", agency, agent]), hashlib.sha256).hexdigest()
