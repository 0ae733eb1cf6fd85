"""Progress of a batch run: a rich bar on a terminal, a log line every few seconds elsewhere
(cron, CI, a pipe), so that nightly logs show the run moving. Counts only, never a row's
content."""

from __future__ import annotations

import logging
import time
from collections import Counter

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ...sdk import OUTCOMES, BatchStats

__all__ = ["BatchProgress", "LogProgress", "RichProgress", "describe", "make_progress"]

log = logging.getLogger("particulier.batch")


def describe(counts: Counter[str], stats: BatchStats | None = None) -> str:
    """``ok 9,500 · not_found 480 · …`` plus rows waiting for a re-send and the pace."""
    parts = [f"{name} {counts[name]:,}" for name in OUTCOMES if counts[name]]
    if stats is not None:
        if stats.waiting:
            parts.append(f"re-send {stats.waiting:,}")
        if stats.throttled:
            parts.append(f"429s {stats.throttled:,}")
        if stats.rate is not None:
            parts.append(f"pace ≤{stats.rate:,.0f}/s")
    return " · ".join(parts)


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class BatchProgress:
    """What the runner tells as rows are answered."""

    def __init__(self, run_id: str, total: int, done: int, counts: Counter[str]) -> None:
        self.run_id = run_id
        self.total = total
        self.done = done
        self.counts = counts
        self.stats: BatchStats | None = None
        self._started = time.monotonic()
        self._start_done = done

    def advance(self, outcome: str) -> None:
        self.done += 1
        self.counts[outcome] += 1

    def refresh(self, stats: BatchStats | None = None) -> None:
        self.stats = stats

    def rate(self) -> float:
        elapsed = time.monotonic() - self._started
        return (self.done - self._start_done) / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        return (self.total - self.done) / rate if rate > 0 else None

    def __enter__(self) -> BatchProgress:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("–/s" if speed is None else f"{speed:,.0f} rows/s", style="cyan")


class RichProgress(BatchProgress):
    """The terminal bar: rows done/total, percentage, rate, ETA, counts by outcome."""

    def __init__(
        self, run_id: str, total: int, done: int, counts: Counter[str], console: Console
    ) -> None:
        super().__init__(run_id, total, done, counts)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[outcomes]}"),
            console=console,
            refresh_per_second=4,
            speed_estimate_period=20,
        )
        self._task = self._bar.add_task(
            run_id, total=total, completed=done, outcomes=describe(counts)
        )
        self._last = 0.0

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        outcomes = describe(self.counts, self.stats)
        self._bar.update(self._task, completed=self.done, outcomes=outcomes)
        self._bar.stop()

    def advance(self, outcome: str) -> None:
        super().advance(outcome)
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self._bar.update(self._task, completed=self.done)

    def refresh(self, stats: BatchStats | None = None) -> None:
        super().refresh(stats)
        self._bar.update(self._task, completed=self.done, outcomes=describe(self.counts, stats))


class LogProgress(BatchProgress):
    """One log line every ``every`` seconds."""

    def __init__(
        self, run_id: str, total: int, done: int, counts: Counter[str], every: float = 5.0
    ) -> None:
        super().__init__(run_id, total, done, counts)
        self.every = every
        self._last = time.monotonic()

    def refresh(self, stats: BatchStats | None = None) -> None:
        super().refresh(stats)
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.line()

    def line(self) -> None:
        share = 100 * self.done / self.total if self.total else 100.0
        log.info(
            "batch %s: %d/%d rows (%.1f%%), %.0f rows/s, ETA %s; %s",
            self.run_id,
            self.done,
            self.total,
            share,
            self.rate(),
            _eta(self.eta()),
            describe(self.counts, self.stats) or "waiting for replies",
        )

    def __exit__(self, *_: object) -> None:
        self.line()


def make_progress(
    run_id: str,
    total: int,
    done: int,
    counts: Counter[str],
    console: Console,
    *,
    log_every: float = 5.0,
) -> BatchProgress:
    """A rich bar when the console is a terminal, log lines otherwise."""
    if console.is_terminal:
        return RichProgress(run_id, total, done, counts, console)
    return LogProgress(run_id, total, done, counts, every=log_every)
