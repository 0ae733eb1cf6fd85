"""Write the Grafana dashboard of the broker, ``deploy/grafana/dashboard.json``.

    python deploy/grafana/generate.py           # rewrite it
    python deploy/grafana/generate.py --check   # exit 1 when the checked-in file has drifted

The panels are declared below, one line of PromQL each, on the metrics of broker/metrics.py
(job ``particulier-worker``) and of RabbitMQ's rabbitmq_prometheus plugin (job
``rabbitmq-queues``: ``rabbitmq_detailed_queue_*``). tests/deploy checks that every expression
parses (``promtool check rules``) and names only metrics that exist.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE / "dashboard.json"
UID = "particulier-broker"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Selectors narrowed by the dashboard's variables.
REQ = 'dataset=~"$dataset", lane=~"$lane"'
UP = 'provider=~"$provider"'
LANE_QUEUES = r'queue=~"particulier\\.[a-z0-9_]+\\.(interactive|bulk)"'
RI = "$__rate_interval"


@dataclass
class Panel:
    title: str
    targets: list[tuple[str, str]]  # (expr, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    stack: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    title: str
    panels: list[Panel]


def _quantiles(metric: str, selector: str, by: str, legend: str) -> list[tuple[str, str]]:
    return [
        (
            f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{{selector}}}[{RI}])))",
            f"p{int(q * 100)} {legend}",
        )
        for q in (0.5, 0.99)
    ]


def rate(metric: str, selector: str = "", by: str = "") -> str:
    """``sum [by (...)] (rate(metric{selector}[$__rate_interval]))``."""
    inner = f"rate({metric}{{{selector}}}[{RI}])" if selector else f"rate({metric}[{RI}])"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def gauge(metric: str, selector: str, by: str = "") -> str:
    return f"sum by ({by}) ({metric}{{{selector}}})" if by else f"sum({metric}{{{selector}}})"


REQUESTS = "particulier_requests_total"
CACHE_LOOKUPS = "particulier_cache_lookups_total"
FAILED = REQ + ', status=~"5.."'
DEAD = 'queue="particulier.dead"'
ALL_BY_DATASET = rate(REQUESTS, REQ, "dataset")

ROWS = [
    Row(
        "Overview",
        [
            Panel("Requests answered", [(rate(REQUESTS, REQ), "req/s")], "reqps", "stat", 6, 4),
            Panel(
                "5xx ratio",
                [(f"({rate(REQUESTS, FAILED)} or vector(0)) / {rate(REQUESTS, REQ)}", "5xx")],
                "percentunit",
                "stat",
                6,
                4,
            ),
            Panel(
                "Workers up",
                [('count(up{job="particulier-worker"} == 1) or vector(0)', "up")],
                "short",
                "stat",
                6,
                4,
            ),
            Panel(
                "Waiting in particulier.dead",
                [(gauge("rabbitmq_detailed_queue_messages", DEAD) + " or vector(0)", "dead")],
                "short",
                "stat",
                6,
                4,
            ),
        ],
    ),
    Row(
        "Traffic",
        [
            Panel(
                "Throughput by dataset and lane",
                [(rate(REQUESTS, REQ, "dataset, lane"), "{{dataset}} {{lane}}")],
                "reqps",
            ),
            Panel(
                "Replies by status",
                [(rate(REQUESTS, REQ, "status"), "{{status}}")],
                "reqps",
                stack=True,
            ),
            Panel(
                "Error codes",
                [
                    (
                        rate(REQUESTS, REQ + ', code!=""', "dataset, status, code"),
                        "{{dataset}} {{status}} {{code}}",
                    )
                ],
                "reqps",
                description="API Particulier error codes: two-digit provider number and "
                "three-digit subcode; 00xxx are the broker's own.",
            ),
            Panel(
                "5xx ratio by dataset",
                [
                    (
                        f"({rate(REQUESTS, FAILED, 'dataset')} or 0 * {ALL_BY_DATASET})"
                        f" / {ALL_BY_DATASET}",
                        "{{dataset}}",
                    )
                ],
                "percentunit",
            ),
        ],
    ),
    Row(
        "Latency",
        [
            Panel(
                "Processing time by lane (delivery to ack)",
                _quantiles("particulier_processing_seconds", REQ, "lane", "{{lane}}"),
                "s",
            ),
            Panel(
                "Interactive p99 by dataset",
                [
                    (
                        "histogram_quantile(0.99, "
                        + rate(
                            "particulier_processing_seconds_bucket",
                            'dataset=~"$dataset", lane="interactive"',
                            "dataset, le",
                        )
                        + ")",
                        "{{dataset}}",
                    )
                ],
                "s",
                description="Alert ParticulierInteractiveLatencyHigh fires above 2.5 s.",
            ),
            Panel(
                "Upstream time by provider (one attempt)",
                _quantiles("particulier_upstream_seconds", UP, "provider", "{{provider}}"),
                "s",
            ),
            Panel(
                "Upstream calls by provider",
                [(rate("particulier_upstream_seconds_count", UP, "provider"), "{{provider}}")],
                "reqps",
            ),
        ],
    ),
    Row(
        "Workers and upstreams",
        [
            Panel(
                "In flight by lane",
                [
                    (gauge("particulier_in_flight", 'lane=~"$lane"', "lane"), "{{lane}}"),
                    (gauge("particulier_bulk_held_back", ""), "bulk held back at the lane gate"),
                ],
                description="Requests being processed; bounded per worker by the lane's "
                "prefetch (PARTICULIER_INTERACTIVE_PREFETCH, PARTICULIER_BULK_PREFETCH). "
                "Bulk requests held back wait while interactive traffic passes "
                "(PARTICULIER_BULK_FLOOR).",
            ),
            Panel(
                "In flight by worker",
                [
                    (
                        gauge("particulier_in_flight", 'lane=~"$lane"', "instance, lane"),
                        "{{instance}} {{lane}}",
                    )
                ],
            ),
            Panel(
                "Upstream retries",
                [(rate("particulier_upstream_retries_total", UP, "provider"), "{{provider}}")],
                "ops",
            ),
            Panel(
                "Upstream errors by kind",
                [
                    (
                        rate("particulier_upstream_errors_total", UP, "provider, kind"),
                        "{{provider}} {{kind}}",
                    )
                ],
                "ops",
                stack=True,
                description="Failures after retries: timeout, connect, status_5xx, "
                "rate_limited; invalid means an answer the mapping could not read.",
            ),
            Panel(
                "Dead letters by reason",
                [(rate("particulier_dead_letters_total", by="reason"), "{{reason}}")],
                "ops",
            ),
            Panel(
                "Journal waits",
                [(rate("particulier_journal_unavailable_total", by="instance"), "{{instance}}")],
                "ops",
                description="Requests held because the journal (PostgreSQL) was unreachable.",
            ),
        ],
    ),
    Row(
        "Providers",
        [
            Panel(
                "Provider up (ping)",
                [(f"min by (provider) (particulier_provider_up{{{UP}}})", "{{provider}}")],
                description="1: the last call succeeded in every worker; 0: it failed in one, "
                "or its breaker is open (ping bad_gateway). No line: not called yet.",
            ),
            Panel(
                "Breakers open and maintenance windows",
                [
                    (
                        gauge("particulier_provider_breaker_open", UP, "provider"),
                        "{{provider}} breakers open",
                    ),
                    (
                        f"max by (provider) (particulier_provider_maintenance{{{UP}}})",
                        "{{provider}} in maintenance",
                    ),
                ],
                description="Workers whose breaker is open, per provider, and the declared "
                "windows: both pause the provider's bulk lane.",
            ),
            Panel(
                "Error ratio of the last 100 calls",
                [(f"max by (provider) (particulier_provider_error_ratio{{{UP}}})", "{{provider}}")],
                "percentunit",
            ),
            Panel(
                "Reply cache hit ratio",
                [
                    (
                        rate(CACHE_LOOKUPS, UP + ', outcome="hit"', "provider")
                        + " / "
                        + rate(CACHE_LOOKUPS, UP, "provider"),
                        "{{provider}}",
                    )
                ],
                "percentunit",
                description="Share of the look-ups answered from the reply cache (misses, "
                "no-cache bypasses and cache errors ask the provider).",
            ),
            Panel(
                "Reply cache look-ups",
                [
                    (
                        rate(CACHE_LOOKUPS, UP, "provider, outcome"),
                        "{{provider}} {{outcome}}",
                    )
                ],
                "ops",
                stack=True,
            ),
            Panel(
                "Upstream calls shared (coalesced)",
                [(rate("particulier_upstream_coalesced_total", UP, "provider"), "{{provider}}")],
                "ops",
                description="Requests served by an identical request's call already in flight.",
            ),
        ],
    ),
    Row(
        "RabbitMQ",
        [
            Panel(
                "Ready messages by lane queue",
                [
                    (
                        gauge("rabbitmq_detailed_queue_messages_ready", LANE_QUEUES, "queue"),
                        "{{queue}}",
                    )
                ],
            ),
            Panel(
                "Unacknowledged by lane queue",
                [
                    (
                        gauge("rabbitmq_detailed_queue_messages_unacked", LANE_QUEUES, "queue"),
                        "{{queue}}",
                    )
                ],
            ),
            Panel(
                "Consumers by lane queue",
                [(gauge("rabbitmq_detailed_queue_consumers", LANE_QUEUES, "queue"), "{{queue}}")],
            ),
            Panel(
                "Dead-letter queue",
                [(gauge("rabbitmq_detailed_queue_messages", DEAD), "particulier.dead")],
            ),
        ],
    ),
]


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    if panel.kind == "timeseries":
        custom = {
            "fillOpacity": 10,
            "lineWidth": 1,
            "showPoints": "never",
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
        }
    doc: dict[str, Any] = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit, "custom": custom}, "overrides": []},
        "options": panel.options
        or (
            {
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"},
            }
            if panel.kind == "timeseries"
            else {
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "colorMode": "value",
                "graphMode": "area",
            }
        ),
        "targets": [
            {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(65 + i)}
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }
    if panel.description:
        doc["description"] = panel.description
    return doc


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row in ROWS:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid, y, x, line = pid + 1, y + 1, 0, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y = 0, y + line
            panels.append(_panel(panel, pid, x, y))
            pid, x, line = pid + 1, x + panel.width, max(line, panel.height)
        y += line
    return {
        "uid": UID,
        "title": "API Particulier broker",
        "description": "Workers, upstream providers and RabbitMQ lanes of the message-driven "
        "API Particulier (docs/operations.md).",
        "tags": ["api-particulier", "rabbitmq"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "annotations": {"list": []},
        "links": [],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "refresh": 1,
                    "hide": 0,
                    "current": {"selected": True, "text": "Prometheus", "value": "prometheus"},
                },
                _variable(
                    "dataset", "Dataset", "label_values(particulier_requests_total, dataset)"
                ),
                {
                    "name": "lane",
                    "label": "Lane",
                    "type": "custom",
                    "query": "interactive,bulk",
                    "multi": True,
                    "includeAll": True,
                    "allValue": ".*",
                    "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
                    "options": [
                        {"selected": True, "text": "All", "value": "$__all"},
                        {"selected": False, "text": "interactive", "value": "interactive"},
                        {"selected": False, "text": "bulk", "value": "bulk"},
                    ],
                },
                _variable(
                    "provider",
                    "Provider",
                    "label_values(particulier_upstream_seconds_count, provider)",
                ),
            ]
        },
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    current = DASHBOARD.read_text(encoding="utf-8") if DASHBOARD.exists() else None
    if current == text:
        return 0
    if "--check" in argv:
        print(
            "deploy/grafana/dashboard.json drifted: run python deploy/grafana/generate.py",
            file=sys.stderr,
        )
        return 1
    DASHBOARD.write_text(text, encoding="utf-8")
    print("wrote deploy/grafana/dashboard.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
