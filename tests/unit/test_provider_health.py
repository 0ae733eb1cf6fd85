"""Maintenance windows and the circuit breaker, without a broker: what each answers when."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.errors import ProblemError
from broker.registry import provider
from broker.runtime import Breaker, Health, Maintenance, MaintenanceError, ProviderHealth

UNAVAILABLE = provider("dgfip").errors.unavailable


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("daily", "now", "closes"),
    [
        ("02:00-02:30", "2026-12-03T02:10:00+01:00", "2026-12-03T02:30:00+01:00"),
        ("02:00-02:30", "2026-12-03T01:10:00Z", "2026-12-03T02:30:00+01:00"),
        ("02:00-02:30", "2026-12-03T02:30:00+01:00", None),
        ("02:00-02:30", "2026-12-03T01:59:59+01:00", None),
        ("23:30-00:30", "2026-12-03T23:45:00+01:00", "2026-12-04T00:30:00+01:00"),
        ("23:30-00:30", "2026-12-04T00:15:00+01:00", "2026-12-04T00:30:00+01:00"),
        ("23:30-00:30", "2026-12-04T00:45:00+01:00", None),
        # summer time: 02:00 in Paris is 00:00 UTC
        ("02:00-02:30", "2026-07-01T00:10:00Z", "2026-07-01T02:30:00+02:00"),
    ],
)
def test_a_daily_window_is_in_paris_time_and_may_cross_midnight(
    daily: str, now: str, closes: str | None
) -> None:
    windows = Maintenance.parse({"window": [{"provider": "dgfip", "daily": daily}]})
    end = windows.until("dgfip", _at(now))
    assert end == (_at(closes) if closes else None)
    assert windows.until("cnav", _at(now)) is None


def test_a_dated_window_opens_and_closes_once() -> None:
    start, end = _at("2026-12-24T22:00:00+01:00"), _at("2026-12-25T06:00:00+01:00")
    windows = Maintenance.parse({"window": [{"provider": "cnav", "start": start, "end": end}]})
    assert windows.until("cnav", start - timedelta(seconds=1)) is None
    assert windows.until("cnav", start) == end
    assert windows.until("cnav", end) is None


def test_the_repository_file_loads() -> None:
    from broker import registry

    path = Path(__file__).parents[2] / "deploy" / "maintenance.toml"
    loaded = Maintenance.load(path, registry.providers())
    assert {w.provider for w in loaded.windows} == {"dgfip", "cnav"}


@pytest.mark.parametrize(
    "table",
    [
        {"provider": "nobody", "daily": "02:00-02:30"},
        {"provider": "dgfip", "daily": "2h-3h"},
        {"provider": "dgfip", "daily": "02:00-02:00"},
        {"provider": "dgfip"},
        {
            "provider": "dgfip",
            "start": datetime(2026, 12, 24, 22),
            "end": datetime(2026, 12, 25, 6),
        },
        {
            "provider": "dgfip",
            "start": _at("2026-12-25T06:00:00Z"),
            "end": _at("2026-12-24T06:00:00Z"),
        },
    ],
)
def test_a_window_that_says_nothing_clear_is_refused(table: dict[str, object]) -> None:
    with pytest.raises(MaintenanceError):
        Maintenance.parse({"window": [table]}, ["dgfip", "cnav"])


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_breaker_opens_after_failures_in_a_row_and_a_probe_closes_it() -> None:
    clock = _Clock()
    health = ProviderHealth("dgfip", UNAVAILABLE, threshold=3, cool_down=30, clock=clock)
    assert health.ping()["status"] == "unknown"
    health.record(True)
    assert health.ping()["status"] == "ok"
    for _ in range(2):
        health.record(False)
    health.record(None)  # rate limited: neither
    assert health.breaker is Breaker.CLOSED
    assert await health.admit() is False
    health.record(False)
    assert health.breaker is Breaker.OPEN and health.paused
    with pytest.raises(ProblemError) as refused:
        await health.admit()
    assert refused.value.spec.code == UNAVAILABLE.code
    assert refused.value.retry_in == 30
    assert health.ping()["status"] == "bad_gateway"

    clock.now += 30
    assert not health.paused
    assert await health.admit() is True  # the probe
    waiting = asyncio.ensure_future(health.admit())
    await asyncio.sleep(0)
    assert not waiting.done(), "the others wait for the probe's outcome"
    health.record(True)
    health.probe_ended()
    assert await waiting is False
    assert health.breaker is Breaker.CLOSED
    assert health.ping()["status"] == "ok"
    assert health.ping()["last_ok_status"] is not None


async def _probing() -> ProviderHealth:
    """A breaker (threshold 1, cool-down 10 s) opened by a failure, whose probe was just let
    through once the cool-down was over."""
    clock = _Clock()
    health = ProviderHealth("dgfip", UNAVAILABLE, threshold=1, cool_down=10, clock=clock)
    health.record(False)
    assert health.breaker is Breaker.OPEN
    clock.now += 10
    assert await health.admit() is True
    return health


async def test_a_failed_probe_opens_the_breaker_for_twice_as_long() -> None:
    health = await _probing()
    health.record(False)
    health.probe_ended()
    assert health.breaker is Breaker.OPEN
    assert health.retry_in() == 20


async def test_a_probe_that_never_reached_the_provider_hands_over_to_the_next() -> None:
    health = await _probing()
    waiting = asyncio.ensure_future(health.admit())
    await asyncio.sleep(0)
    health.probe_ended()  # e.g. its deadline passed before the call
    assert await waiting is True, "the next request is the probe"
    assert health.breaker is Breaker.HALF_OPEN


async def test_a_window_answers_at_once_with_the_seconds_left_and_pauses_the_bulk_lane() -> None:
    now = datetime.now(UTC)
    window = {
        "provider": "dgfip",
        "start": now - timedelta(minutes=1),
        "end": now + timedelta(minutes=9),
    }
    health = Health.of({"dgfip": UNAVAILABLE}, Maintenance.parse({"window": [window]}))
    with pytest.raises(ProblemError) as refused:
        await health.admit("dgfip")
    assert refused.value.spec.code == UNAVAILABLE.code
    assert 530 <= (refused.value.retry_in or 0) <= 540
    assert health.paused("dgfip")
    assert health.ping("dgfip")["maintenance"] is True
    assert health.providers["dgfip"].breaker is Breaker.CLOSED, "a window is not a failure"
