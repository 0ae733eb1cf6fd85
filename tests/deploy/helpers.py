"""Shared knowledge of the deploy tests: where files are, which metrics exist, promtool."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"

TARGET_LABELS = frozenset({"job", "instance"})
"""Labels Prometheus attaches to every scraped series."""

RABBITMQ_METRICS: dict[str, frozenset[str]] = {
    # rabbitmq_prometheus, /metrics (node level)
    "rabbitmq_alarms_memory_used_watermark": frozenset(),
    "rabbitmq_alarms_free_disk_space_watermark": frozenset(),
    # rabbitmq_prometheus, /metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count
    "rabbitmq_detailed_queue_messages": frozenset({"vhost", "queue"}),
    "rabbitmq_detailed_queue_messages_ready": frozenset({"vhost", "queue"}),
    "rabbitmq_detailed_queue_messages_unacked": frozenset({"vhost", "queue"}),
    "rabbitmq_detailed_queue_consumers": frozenset({"vhost", "queue"}),
}
"""The plugin's series the rules and the dashboard may use, with their labels (names checked
against a RabbitMQ 3.10 node's endpoints; unchanged in 3.13)."""


def load(path: Path) -> ModuleType:
    """Import a script of deploy/ by path."""
    name = "deploy_" + "_".join(path.relative_to(DEPLOY).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@cache
def broker_metrics() -> dict[str, frozenset[str]]:
    """Every series name the workers export (broker/metrics.py), with its labels."""
    from broker import metrics

    found: dict[str, frozenset[str]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        name, kind = value._name, value._type
        labels = frozenset(value._labelnames)
        if kind == "counter":
            found[f"{name}_total"] = labels
        elif kind == "gauge":
            found[name] = labels
        elif kind == "histogram":
            found[f"{name}_bucket"] = labels | {"le"}
            found[f"{name}_count"] = labels
            found[f"{name}_sum"] = labels
        else:  # pragma: no cover - a new kind needs a line here
            raise AssertionError(f"unknown metric type {kind} of {name}")
    return found


def known_metrics() -> dict[str, frozenset[str]]:
    return {**broker_metrics(), **RABBITMQ_METRICS, "up": frozenset()}


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"\b((?:particulier|rabbitmq)_[a-z0-9_]+|up)\b")
_SELECTOR = re.compile(r"\b([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")


def metric_problems(expr: str) -> list[str]:
    """Unknown metric names and label names in a PromQL expression (empty when sound)."""
    known = known_metrics()
    problems: list[str] = []
    bare = _STRING.sub('""', expr)
    names = set(_NAME.findall(bare))
    problems += [f"unknown metric {n}" for n in sorted(names - set(known))]
    if not names:
        problems.append("names no metric")
    for name, body in _SELECTOR.findall(expr):
        if name not in known:
            continue
        for label in _MATCHER.findall(_STRING.sub('""', body)):
            if label not in known[name] | TARGET_LABELS:
                problems.append(f"{name} has no label {label}")
    available = set(TARGET_LABELS).union(*(known[n] for n in names if n in known))
    for group in _GROUPING.findall(bare):
        for label in (g.strip() for g in group.split(",")):
            if label and label not in available:
                problems.append(f"no metric of the expression has label {label}")
    return problems


def promtool() -> str:
    """promtool's path; skips (or fails when CI_REQUIRE_PROMTOOL is set) when it is absent."""
    path = shutil.which("promtool")
    if path:
        return path
    message = (
        "promtool is not on PATH (Debian: apt-get update && apt-get install -y prometheus, "
        "which provides /usr/bin/promtool)"
    )
    if os.environ.get("CI_REQUIRE_PROMTOOL"):
        pytest.fail(message + "; CI_REQUIRE_PROMTOOL is set")
    pytest.skip(message)


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown document."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors
