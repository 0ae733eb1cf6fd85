"""The journal's secrets: the pseudonym key and the chain key.

Both come from the environment. Without them a development key derived from a fixed string is
used, with a warning: anyone can recompute such pseudonyms and hashes, so it must never serve
real traffic.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["JournalSettings", "journal_key", "pseudonym_key"]

log = logging.getLogger(__name__)

_MIN_KEY_BYTES = 32


class JournalSettings(BaseSettings):
    """``PARTICULIER_PSEUDONYM_KEY``, ``PARTICULIER_JOURNAL_KEY`` and the replies' lifetime."""

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    pseudonym_key: SecretStr | None = None
    journal_key: SecretStr | None = None
    reply_ttl_hours: float = 24.0


def _key(value: SecretStr | None, purpose: str, variable: str) -> bytes:
    secret = value.get_secret_value() if value is not None else ""
    if not secret:
        log.warning(
            "%s is not set: using a development %s key that anyone can recompute; "
            "never use it with real traffic",
            variable,
            purpose,
        )
        return hashlib.sha256(f"api-particulier-broker development {purpose} key".encode()).digest()
    raw = secret.encode()
    if len(raw) < _MIN_KEY_BYTES:
        log.warning("%s is shorter than %d bytes", variable, _MIN_KEY_BYTES)
    return raw


@cache
def pseudonym_key() -> bytes:
    """The key of subject pseudonyms (HMAC-SHA256)."""
    return _key(JournalSettings().pseudonym_key, "pseudonym", "PARTICULIER_PSEUDONYM_KEY")


@cache
def journal_key() -> bytes:
    """The key of the journal's hash chain (HMAC-SHA256)."""
    return _key(JournalSettings().journal_key, "journal", "PARTICULIER_JOURNAL_KEY")
