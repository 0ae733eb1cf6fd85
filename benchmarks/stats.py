"""Small statistics helpers: percentiles and min/median/max summaries."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["percentile", "percentiles", "spread"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p95/p99/max/mean of ``values`` (seconds) in milliseconds by default."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50) * scale, 3),
        "p95": round(percentile(values, 95) * scale, 3),
        "p99": round(percentile(values, 99) * scale, 3),
        "max": round(max(values) * scale, 3),
        "mean": round(statistics.fmean(values) * scale, 3),
    }


def spread(values: Sequence[float | None], digits: int = 3) -> dict[str, Any]:
    """``{"min", "median", "max", "n"}`` of the runs' values (``None``s ignored)."""
    kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not kept:
        return {"min": None, "median": None, "max": None, "n": 0}
    return {
        "min": round(min(kept), digits),
        "median": round(statistics.median(kept), digits),
        "max": round(max(kept), digits),
        "n": len(kept),
    }
