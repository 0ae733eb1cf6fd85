"""The request's ``recipient``: the SIRET of the public body that receives the data."""

from __future__ import annotations

from stdnum.fr import siret

from ..errors import BROKER, ProblemError

__all__ = ["check_recipient"]


def check_recipient(recipient: str | None) -> str:
    """The recipient SIRET, or ``ProblemError`` 00203 (missing) / 00210 (not a SIRET)."""
    if recipient is None or not recipient.strip():
        raise ProblemError(BROKER.RECIPIENT_MISSING, parameter="recipient")
    compact = siret.compact(recipient)
    if not siret.is_valid(compact):
        raise ProblemError(BROKER.RECIPIENT_INVALID, parameter="recipient")
    return compact
