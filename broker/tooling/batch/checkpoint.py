"""The local checkpoint of a batch run: which rows are answered, and how far the output goes.

One SQLite file per run (stdlib ``sqlite3``, WAL, synchronous commits). A commit records a
group of answered rows together with the output offset that covers them, after the output was
flushed to disk; only then are their replies acknowledged to RabbitMQ. So after a crash at any
point, every row is either checkpointed and in the output below the offset, or still
unanswered (its reply waits in the run's durable queue, or the row is asked again).

Nothing personal is stored: row numbers, statuses, error codes and latencies only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Answered", "Checkpoint", "CheckpointError", "RunSpec", "run_path", "state_dir"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    status INTEGER NOT NULL,
    code TEXT,
    latency_ms REAL,
    attempts INTEGER NOT NULL,
    session INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    last REAL NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL
);
"""


class CheckpointError(Exception):
    """The checkpoint is missing, locked by a live runner, or does not match its files."""


def state_dir(explicit: Path | None = None) -> Path:
    """Where checkpoints live: ``--state-dir``, ``PARTICULIER_BATCH_DIR``, or the XDG state
    folder (``~/.local/state/particulier/batch``), so ``resume`` finds a run from anywhere."""
    if explicit is not None:
        return explicit
    env = os.environ.get("PARTICULIER_BATCH_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "particulier" / "batch"


def run_path(directory: Path, run_id: str) -> Path:
    return directory / f"{run_id}.checkpoint"


@dataclass
class RunSpec:
    """Everything needed to resume a run without repeating its command line."""

    run_id: str
    dataset: str
    recipient: str
    input: str
    input_format: str
    output: str
    output_format: str
    report: str
    total: int
    input_sha256: str
    requester: str
    queue: str
    version: int | None = None
    delimiter: str | None = None
    output_delimiter: str = ","
    mapping: dict[str, str] = field(default_factory=dict)
    id_column: str | None = None
    window: int = 256
    rate: float | None = None
    reply_timeout: float = 600.0
    retries: int = 3
    queue_expires_ms: int = 3 * 24 * 3600 * 1000
    verify: bool = True
    created: float = field(default_factory=time.time)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class Answered:
    """Answered rows: a contiguous prefix ``1..watermark`` plus the rows answered above it.

    Rows are answered roughly in input order, so the set stays about the size of the window
    whatever the input size.
    """

    watermark: int = 0
    above: set[int] = field(default_factory=set)

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and (row <= self.watermark or row in self.above)

    def add(self, row: int) -> None:
        if row <= self.watermark:
            return
        self.above.add(row)
        while self.watermark + 1 in self.above:
            self.watermark += 1
            self.above.discard(self.watermark)

    def __len__(self) -> int:
        return self.watermark + len(self.above)


class Checkpoint:
    """The SQLite file of one run; :meth:`create` or :meth:`open` it, then :meth:`lock`."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db
        self._lock: Any = None
        self.session: int | None = None

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, spec: RunSpec, offset: int) -> Checkpoint:
        if path.exists():
            raise CheckpointError(f"run {spec.run_id} already exists: resume it or pick another id")
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint = cls(path, cls._connect(path))
        checkpoint._db.executescript(_SCHEMA)
        with checkpoint._tx():
            checkpoint._put("spec", json.dumps(asdict(spec)))
            checkpoint._put("offset", str(offset))
            checkpoint._put("state", "created")
        return checkpoint

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Checkpoint:
        if not path.exists():
            raise CheckpointError(f"no checkpoint at {path}")
        if readonly:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        else:
            db = cls._connect(path)
        return cls(path, db)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def lock(self) -> None:
        """Take the run for this process; refuse if a live runner holds it."""
        handle = self.path.with_suffix(".lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise CheckpointError(
                f"run {self.spec.run_id} is being run by another process"
            ) from None
        self._lock = handle

    def locked_by_other(self) -> bool:
        """Whether a live runner holds the run now (``status`` uses it)."""
        lock_path = self.path.with_suffix(".lock")
        if not lock_path.exists():
            return False
        with lock_path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # -- state --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _put(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def spec(self) -> RunSpec:
        text = self._get("spec")
        if text is None:
            raise CheckpointError(f"{self.path} is not a batch checkpoint")
        return RunSpec.from_json(text)

    def update_spec(self, spec: RunSpec) -> None:
        with self._tx():
            self._put("spec", json.dumps(asdict(spec)))

    @property
    def offset(self) -> int:
        return int(self._get("offset") or 0)

    @property
    def state(self) -> str:
        """``created``, ``running``, ``interrupted`` or ``complete``."""
        return self._get("state") or "created"

    def begin_session(self) -> int:
        now = time.time()
        with self._tx():
            # A session left "running" was killed: its last commit is when it stopped.
            self._db.execute("UPDATE sessions SET state = 'killed' WHERE state = 'running'")
            cursor = self._db.execute(
                "INSERT INTO sessions (started, last, state) VALUES (?, ?, 'running')", (now, now)
            )
            self._put("state", "running")
        self.session = int(cursor.lastrowid or 0)
        return self.session

    def add_pause(self, requests: int, seconds: float) -> None:
        """Count requests a paused provider refused and the time the run waited for it."""
        if not requests:
            return
        before, waited = self.pauses
        with self._tx():
            self._put("paused_requests", str(before + requests))
            self._put("paused_seconds", repr(waited + seconds))

    @property
    def pauses(self) -> tuple[int, float]:
        """``(requests, seconds)``: what :meth:`add_pause` counted over every session."""
        return int(self._get("paused_requests") or 0), float(self._get("paused_seconds") or 0)

    def end_session(self, state: str) -> None:
        """``complete`` or ``interrupted``."""
        with self._tx():
            self._db.execute(
                "UPDATE sessions SET state = ?, last = ? WHERE id = ?",
                ("complete" if state == "complete" else "interrupted", time.time(), self.session),
            )
            self._put("state", state)

    def record(
        self, rows: Iterable[tuple[int, int, str | None, float | None, int]], offset: int
    ) -> int:
        """Store ``(row, status, code, latency_ms, attempts)`` rows and the output offset that
        covers them, in one transaction. Call after the output was flushed to ``offset``."""
        batch = [(*r, self.session or 0) for r in rows]
        with self._tx():
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (row, status, code, latency_ms, attempts, session) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            self._put("offset", str(offset))
            if self.session is not None:
                self._db.execute(
                    "UPDATE sessions SET last = ?, rows = rows + ? WHERE id = ?",
                    (time.time(), len(batch), self.session),
                )
        return len(batch)

    # -- reading ------------------------------------------------------------------------------

    def answered(self) -> Answered:
        """The answered rows, streamed from the file into the compact form."""
        answered = Answered()
        for (row,) in self._db.execute("SELECT row FROM rows ORDER BY row"):
            answered.add(int(row))
        return answered

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM rows").fetchone()[0])

    def counts(self) -> list[tuple[int, str | None, int]]:
        """``(status, code, rows)`` groups, most frequent first."""
        return [
            (int(s), c, int(n))
            for s, c, n in self._db.execute(
                "SELECT status, code, count(*) FROM rows GROUP BY status, code "
                "ORDER BY count(*) DESC, status, code"
            )
        ]

    def latencies_ms(self) -> Iterator[float]:
        for (value,) in self._db.execute(
            "SELECT latency_ms FROM rows WHERE latency_ms IS NOT NULL"
        ):
            yield float(value)

    def sessions(self) -> list[tuple[float, float, int, str]]:
        """``(started, last, rows, state)`` of each session, oldest first."""
        return [
            (float(a), float(b), int(n), str(s))
            for a, b, n, s in self._db.execute(
                "SELECT started, last, rows, state FROM sessions ORDER BY id"
            )
        ]

    def active_seconds(self) -> float:
        """Time runners spent on this run, summed over sessions (up to each last commit)."""
        return sum(max(0.0, last - started) for started, last, _, _ in self.sessions())
