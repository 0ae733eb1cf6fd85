"""Providers' maintenance windows, declared in a TOML file (``PARTICULIER_MAINTENANCE_FILE``).

API Particulier knows when each provider stops for maintenance and answers at once rather than
calling it. The file, one ``[[window]]`` table per window::

    timezone = "Europe/Paris"          # of the daily windows (default)

    [[window]]
    provider = "dgfip"
    daily = "02:00-02:30"              # every day; may cross midnight ("23:30-00:30")

    [[window]]
    provider = "cnav"
    start = 2026-12-24T22:00:00+01:00  # once
    end = 2026-12-25T06:00:00+01:00

TOML, read by the standard library, so that a worker imports no YAML parser.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["PARIS", "Maintenance", "MaintenanceError", "Window"]

PARIS = ZoneInfo("Europe/Paris")
"""Where API Particulier's providers keep their clocks: the daily windows' default zone."""


class MaintenanceError(ValueError):
    """The maintenance file says something that is not a window."""


@dataclass(frozen=True)
class Window:
    """One provider's window: every day from ``opens`` to ``closes`` (wall-clock time in
    ``zone``), or once from ``start`` to ``end``."""

    provider: str
    opens: time | None = None
    closes: time | None = None
    zone: ZoneInfo = PARIS
    start: datetime | None = None
    end: datetime | None = None

    def end_if_open(self, now: datetime) -> datetime | None:
        """When the window closes, if ``now`` is inside it."""
        if self.start is not None and self.end is not None:
            return self.end if self.start <= now < self.end else None
        assert self.opens is not None and self.closes is not None
        local = now.astimezone(self.zone)
        for day in (local.date() - timedelta(days=1), local.date()):
            opened = datetime.combine(day, self.opens, self.zone)
            closes_on = day if self.closes > self.opens else day + timedelta(days=1)
            closed = datetime.combine(closes_on, self.closes, self.zone)
            if opened <= now < closed:
                return closed
        return None

    def describe(self) -> str:
        if self.start is not None and self.end is not None:
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        assert self.opens is not None and self.closes is not None
        return f"daily {self.opens:%H:%M}-{self.closes:%H:%M} ({self.zone.key})"


@dataclass(frozen=True)
class Maintenance:
    """Every declared window; none by default."""

    windows: tuple[Window, ...] = ()

    def until(self, provider: str, now: datetime | None = None) -> datetime | None:
        """The end of the window ``provider`` is in now, if any (the latest of overlapping
        ones)."""
        now = now or datetime.now(UTC)
        ends = [e for w in self.windows if w.provider == provider and (e := w.end_if_open(now))]
        return max(ends, default=None)

    def of(self, provider: str) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if w.provider == provider)

    @classmethod
    def load(cls, path: str | Path | None, providers: Iterable[str] | None = None) -> Maintenance:
        """The windows of ``path`` (none without a path); ``providers``, when given, are the
        names a window may name."""
        if path is None:
            return cls()
        try:
            document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MaintenanceError(f"{path}: {exc}") from None
        return cls.parse(document, providers)

    @classmethod
    def parse(
        cls, document: Mapping[str, Any], providers: Iterable[str] | None = None
    ) -> Maintenance:
        known = frozenset(providers) if providers is not None else None
        try:
            zone = ZoneInfo(document["timezone"]) if "timezone" in document else PARIS
        except (ValueError, KeyError) as exc:
            raise MaintenanceError(f"timezone: {exc}") from None
        windows = []
        for n, table in enumerate(document.get("window", ()), 1):
            provider = table.get("provider")
            if not isinstance(provider, str) or (known is not None and provider not in known):
                raise MaintenanceError(f"window {n}: unknown provider {provider!r}")
            windows.append(_window(n, provider, table, zone))
        return cls(tuple(windows))


def _window(n: int, provider: str, table: Mapping[str, Any], zone: ZoneInfo) -> Window:
    daily, start, end = table.get("daily"), table.get("start"), table.get("end")
    if isinstance(daily, str) and start is None and end is None:
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in daily.split("-"))
        except ValueError:
            raise MaintenanceError(f"window {n}: daily is HH:MM-HH:MM, not {daily!r}") from None
        if opens == closes:
            raise MaintenanceError(f"window {n}: a daily window cannot be empty")
        return Window(provider, opens=opens, closes=closes, zone=zone)
    if isinstance(start, datetime) and isinstance(end, datetime) and daily is None:
        if start.tzinfo is None or end.tzinfo is None:
            raise MaintenanceError(f"window {n}: start and end need a UTC offset")
        if end <= start:
            raise MaintenanceError(f"window {n}: end is not after start")
        return Window(provider, start=start, end=end)
    raise MaintenanceError(f'window {n}: give daily = "HH:MM-HH:MM", or start and end')
