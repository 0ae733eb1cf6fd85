"""Each provider's health as one worker sees it: last success, recent error rate, a breaker.

Every upstream call ends as a success (the provider answered, data or a refusal of its own),
a failure (unreachable, timed out, a 5xx, an answer nobody can read) or neither (rate
limited: the provider is up and says so). After ``threshold`` failures in a row the breaker
opens: requests that need the provider are answered at once with its unavailable code and
``retry_in``, and the bulk lane pauses. Once ``cool_down`` seconds have passed, the next
request is let through as a probe while the others wait for its outcome: a success closes the
breaker, a failure opens it again for twice as long (up to ``longest``).

A maintenance window (:mod:`._maintenance`) answers the same way without counting as a
failure. The pings (``status`` ok / bad_gateway / unknown) read this state.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..errors import ErrorSpec, ProblemError
from ..metrics import PROVIDER_BREAKER_OPEN, PROVIDER_ERROR_RATIO, PROVIDER_MAINTENANCE, PROVIDER_UP
from ._maintenance import Maintenance

__all__ = ["Breaker", "Health", "PingStatus", "ProviderHealth"]


class PingStatus(StrEnum):
    """API Particulier's ping statuses."""

    OK = "ok"
    BAD_GATEWAY = "bad_gateway"
    UNKNOWN = "unknown"


class Breaker(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def _stamp(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else None


@dataclass
class ProviderHealth:
    """One provider's health in this worker."""

    provider: str
    unavailable: ErrorSpec
    """The provider's unavailable code: what an open breaker or a window answers."""
    threshold: int = 5
    cool_down: float = 30.0
    longest: float = 300.0
    window: int = 100
    """Calls the error rate is measured over."""
    clock: Callable[[], float] = time.monotonic
    breaker: Breaker = Breaker.CLOSED
    failures_in_a_row: int = 0
    last_update: datetime | None = None
    last_success: datetime | None = None
    last_failed: bool = False
    _outcomes: deque[bool] = field(init=False)
    _open_until: float = 0.0
    _opened_for: float = 0.0
    _probe: asyncio.Future[None] | None = None
    _failed: int = field(init=False)
    """Failures among ``_outcomes``, kept as they come and go."""
    _up: Any = field(init=False, repr=False)
    _open: Any = field(init=False, repr=False)
    _ratio: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._outcomes = deque(maxlen=self.window)
        self._failed = 0
        # the gauges' children, looked up once: ``record`` runs on every upstream call
        self._up = PROVIDER_UP.labels(self.provider)
        self._open = PROVIDER_BREAKER_OPEN.labels(self.provider)
        self._ratio = PROVIDER_ERROR_RATIO.labels(self.provider)
        self._open.set(0)
        self._up.set(math.nan)

    @property
    def error_rate(self) -> float:
        return self._failed / len(self._outcomes) if self._outcomes else 0.0

    @property
    def status(self) -> PingStatus:
        if self.breaker is Breaker.OPEN or (self.last_update is not None and self.last_failed):
            return PingStatus.BAD_GATEWAY
        return PingStatus.OK if self.last_update is not None else PingStatus.UNKNOWN

    @property
    def paused(self) -> bool:
        """The breaker is open and no probe is due: the bulk lane waits."""
        return self.breaker is Breaker.OPEN and self.clock() < self._open_until

    def retry_in(self) -> int:
        return max(1, math.ceil(self._open_until - self.clock()))

    async def admit(self) -> bool:
        """Let a request call the provider (True when it is the probe of a half-open breaker),
        or raise the provider's unavailable code while the breaker is open."""
        while True:
            if self.breaker is Breaker.CLOSED:
                return False
            if self.breaker is Breaker.OPEN:
                if self.clock() < self._open_until:
                    raise ProblemError(self.unavailable, retry_in=self.retry_in())
                self.breaker = Breaker.HALF_OPEN
            if self._probe is None:
                self._probe = asyncio.get_running_loop().create_future()
                return True
            await asyncio.shield(self._probe)

    def probe_ended(self) -> None:
        """The probe's request is over: whoever waited for it looks again (a probe that never
        reached the provider leaves the breaker half-open, and the next request probes)."""
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.set_result(None)

    def record(self, ok: bool | None) -> None:
        """One upstream call's outcome: ``None`` for neither success nor failure."""
        if ok is None:
            return
        now = datetime.now(UTC)
        self.last_update = now
        self.last_failed = not ok
        if len(self._outcomes) == self._outcomes.maxlen and not self._outcomes[0]:
            self._failed -= 1  # the oldest outcome leaves the window
        self._outcomes.append(ok)
        self._failed += not ok
        if ok:
            self.last_success = now
            self.failures_in_a_row = 0
            if self.breaker is not Breaker.CLOSED:
                self.breaker, self._opened_for = Breaker.CLOSED, 0.0
        else:
            self.failures_in_a_row += 1
            if self.breaker is Breaker.HALF_OPEN or (
                self.breaker is Breaker.CLOSED and self.failures_in_a_row >= self.threshold
            ):
                longer = self._opened_for * 2 if self._opened_for else self.cool_down
                self._opened_for = min(longer, self.longest)
                self._open_until = self.clock() + self._opened_for
                self.breaker = Breaker.OPEN
        self._up.set(1 if self.status is PingStatus.OK else 0)
        self._open.set(self.breaker is Breaker.OPEN)
        self._ratio.set(self.error_rate)

    def ping(self) -> dict[str, Any]:
        """API Particulier's ping body, and what the breaker says."""
        return {
            "status": self.status.value,
            "last_update": _stamp(self.last_update),
            "last_ok_status": _stamp(self.last_success),
            "breaker": self.breaker.value,
            "error_rate": round(self.error_rate, 3),
        }


@dataclass
class Health:
    """Every served provider's health, and their maintenance windows."""

    providers: Mapping[str, ProviderHealth]
    maintenance: Maintenance = field(default_factory=Maintenance)

    @classmethod
    def of(
        cls,
        unavailable: Mapping[str, ErrorSpec],
        maintenance: Maintenance | None = None,
        **options: Any,
    ) -> Health:
        return cls(
            {name: ProviderHealth(name, spec, **options) for name, spec in unavailable.items()},
            maintenance or Maintenance(),
        )

    def in_maintenance(self, provider: str) -> float | None:
        """Seconds left in the provider's window, if one is open."""
        end = self.maintenance.until(provider)
        if end is None:
            PROVIDER_MAINTENANCE.labels(provider).set(0)
            return None
        PROVIDER_MAINTENANCE.labels(provider).set(1)
        return (end - datetime.now(UTC)).total_seconds()

    async def admit(self, provider: str) -> bool:
        """As :meth:`ProviderHealth.admit`, a window first: its code, ``retry_in`` its end."""
        health = self.providers[provider]
        left = self.in_maintenance(provider)
        if left is not None:
            raise ProblemError(health.unavailable, retry_in=max(1, math.ceil(left)))
        return await health.admit()

    def paused(self, provider: str) -> bool:
        """The provider's bulk lane should not take work now."""
        return self.in_maintenance(provider) is not None or self.providers[provider].paused

    def ping(self, provider: str) -> dict[str, Any]:
        body = self.providers[provider].ping()
        left = self.in_maintenance(provider)
        body["maintenance"] = left is not None
        if left is not None:
            body["retry_in"] = max(1, math.ceil(left))
        return body

    def names(self) -> Iterable[str]:
        return self.providers.keys()
