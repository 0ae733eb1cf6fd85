"""Checking the chain: the first row altered, inserted or deleted, if any.

Rows are read in chain order inside one repeatable-read snapshot, so that rows committed while
``verify`` runs do not confuse it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from .chain import FIELDS, anchor_mac, head_mac, row_hash
from .settings import journal_key

__all__ = ["Problem", "Verification", "verify"]

Kind = Literal["altered", "inserted", "deleted"]

_ROWS = f"SELECT {', '.join(FIELDS)}, prev_hash, hash FROM journal ORDER BY seq, hash"


@dataclass(frozen=True)
class Problem:
    """The first break of the chain: which row (its sequence number) and how."""

    kind: Kind
    seq: int
    detail: str
    message_id: str | None = None
    recorded_at: datetime | None = None

    def __str__(self) -> str:
        where = f"row {self.seq}"
        if self.message_id is not None:
            where += f" (message_id {self.message_id}"
            if self.recorded_at is not None:
                where += f", recorded {self.recorded_at.isoformat()}"
            where += ")"
        return f"{where} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    """What ``verify`` read, and the first problem found (``None`` when the chain holds)."""

    rows: int
    first_seq: int | None
    last_seq: int | None
    anchor_seq: int
    head_seq: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Checker:
    def __init__(self, key: bytes, anchor_seq: int, anchor_hash: bytes, head_seq: int) -> None:
        self.key = key
        self.expected = anchor_seq + 1
        self.prev = anchor_hash
        self.head_seq = head_seq
        self.rows = 0
        self.first: int | None = None

    def _valid(self, row: Mapping[str, Any]) -> bool:
        return bytes(row["prev_hash"]) == self.prev and hmac.compare_digest(
            bytes(row["hash"]), row_hash(self.key, self.prev, row)
        )

    def check(self, group: Sequence[Mapping[str, Any]]) -> Problem | None:
        seq: int = group[0]["seq"]
        if seq < self.expected:
            return _problem(
                "inserted",
                group[0],
                "its sequence number is already used or precedes the chain's start",
            )
        if seq > self.expected:
            missing = (
                f"row {self.expected} is missing"
                if seq == self.expected + 1
                else f"rows {self.expected} to {seq - 1} are missing"
            )
            return Problem("deleted", self.expected, missing)
        valid = [r for r in group if self._valid(r)]
        if len(group) > 1:
            forged = next((r for r in group if r not in valid), group[-1])
            return _problem("inserted", forged, f"{len(group)} rows carry this sequence number")
        if not valid:
            if seq > self.head_seq:
                return _problem("inserted", group[0], "it lies after the sealed end of the chain")
            hint = (
                ""
                if self.rows
                else " (or PARTICULIER_JOURNAL_KEY is not the key that wrote the journal)"
            )
            return _problem("altered", group[0], "its content does not match its hash" + hint)
        self.prev = bytes(valid[0]["hash"])
        self.expected += 1
        self.rows += 1
        if self.first is None:
            self.first = seq
        return None


def _problem(kind: Kind, row: Mapping[str, Any], detail: str) -> Problem:
    return Problem(kind, row["seq"], detail, row["message_id"], row["recorded_at"])


async def verify(
    conn: asyncpg.Connection, key: bytes | None = None, *, prefetch: int = 5000
) -> Verification:
    """Walk the whole chain from the purge anchor to the sealed head."""
    key = key if key is not None else journal_key()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        anchor = await conn.fetchrow("SELECT seq, hash, mac FROM journal_anchor")
        head = await conn.fetchrow("SELECT seq, hash, mac FROM journal_head")
        anchor_seq: int = anchor["seq"]
        head_seq: int = head["seq"]
        checker = _Checker(key, anchor_seq, bytes(anchor["hash"]), head_seq)

        def result(problem: Problem | None) -> Verification:
            last = checker.expected - 1 if checker.rows else None
            return Verification(checker.rows, checker.first, last, anchor_seq, head_seq, problem)

        if (anchor_seq != 0 or anchor["mac"] is not None) and (
            anchor["mac"] is None
            or not hmac.compare_digest(
                bytes(anchor["mac"]), anchor_mac(key, anchor_seq, bytes(anchor["hash"]))
            )
        ):
            return result(
                Problem(
                    "deleted",
                    anchor_seq + 1,
                    "the chain's start (purge anchor) is not sealed by the journal key: "
                    "rows before it may have been deleted",
                )
            )

        group: list[asyncpg.Record] = []
        async for record in conn.cursor(_ROWS, prefetch=prefetch):
            if group and record["seq"] != group[0]["seq"]:
                problem = checker.check(group)
                if problem is not None:
                    return result(problem)
                group = []
            group.append(record)
        if group:
            problem = checker.check(group)
            if problem is not None:
                return result(problem)

        last = checker.expected - 1
        if last < head_seq:
            missing = (
                f"row {head_seq} is missing"
                if last + 1 == head_seq
                else f"rows {last + 1} to {head_seq} are missing"
            )
            return result(Problem("deleted", last + 1, missing + " at the end of the chain"))
        if last > head_seq:
            return result(
                Problem("inserted", head_seq + 1, "rows lie after the sealed end of the chain")
            )
        if head_seq > 0 and (
            head["mac"] is None
            or bytes(head["hash"]) != checker.prev
            or not hmac.compare_digest(
                bytes(head["mac"]), head_mac(key, head_seq, bytes(head["hash"]))
            )
        ):
            return result(
                Problem("altered", head_seq, "the chain's sealed end does not match its last row")
            )
        return result(None)
