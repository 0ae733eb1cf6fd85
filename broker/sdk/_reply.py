"""What a call to the broker returns, and the SDK's exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .contract import ReplyBody

__all__ = ["ParticulierError", "ProofError", "Reply", "ReplyError", "ReplyTimeout"]


class ParticulierError(Exception):
    """Base of the SDK's exceptions."""


class ReplyTimeout(ParticulierError, TimeoutError):
    """No reply came within the call's timeout."""


class ProofError(ParticulierError):
    """A reply's proof of origin did not verify: its content must not be used."""


class ReplyError(ParticulierError):
    """A reply carrying errors instead of data (raised by :meth:`Reply.raise_for_status`)."""

    def __init__(self, reply: Reply) -> None:
        codes = ",".join(e.code for e in reply.body.errors) or "none"
        super().__init__(f"status {reply.status}, codes {codes}")
        self.reply = reply

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.reply.body.errors]


@dataclass(frozen=True)
class Reply:
    """A verified reply: the body, and the exact bytes received (to archive or re-verify)."""

    body: ReplyBody
    raw: bytes
    correlation_id: str
    message_id: str

    @property
    def status(self) -> int:
        return self.body.status

    @property
    def ok(self) -> bool:
        return self.body.status == 200

    @property
    def data(self) -> dict[str, Any] | None:
        return self.body.data

    @property
    def retry_in(self) -> int | None:
        wait = self.body.retry_in
        return None if wait is None else int(wait)

    def raise_for_status(self) -> Reply:
        if not self.ok:
            raise ReplyError(self)
        return self
