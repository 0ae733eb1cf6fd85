"""Batch runs: a file of households checked through the ``bulk`` lane, resumable.

The SDK part is :class:`BatchSession` (``Client.batch``); the CLI part, file to file with a
checkpoint, progress and a report, is :mod:`broker.batch.runner`. See ``docs/batch.md``.
"""

from .results import LOCAL_CODES, LOCAL_NO_REPLY, LOCAL_PROOF_INVALID, BatchResult
from .rows import LOCAL_MALFORMED_ROW, LOCAL_MISSING_COLUMN, BatchRow
from .session import BatchSession, BatchStats, Pacer

__all__ = [
    "LOCAL_CODES",
    "LOCAL_MALFORMED_ROW",
    "LOCAL_MISSING_COLUMN",
    "LOCAL_NO_REPLY",
    "LOCAL_PROOF_INVALID",
    "BatchResult",
    "BatchRow",
    "BatchSession",
    "BatchStats",
    "Pacer",
]
