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


ROWS = [
    Row("Overview", [
        Panel("Requests answered", [(f"sum(rate(particulier_requests_total{{{REQ}}}[{RI}]))",
                                     "req/s")], unit="reqps", kind="stat", width=6, height=4),
        Panel("5xx ratio", [(
            f'sum(rate(particulier_requests_total{{{REQ}, status=~"5.."}}[{RI}])) '
            f"/ sum(rate(particulier_requests_total{{{REQ}}}[{RI}]))", "5xx")],
            unit="percentunit", kind="stat", width=6, height=4),
        Panel("Workers up", [('count(up{job="particulier-worker"} == 1) or vector(0)', "up")],
              kind="stat", width=6, height=4),
        Panel("Waiting in particulier.dead", [(
            'sum(rabbitmq_detailed_queue_messages{queue="particulier.dead"}) or vector(0)',
            "dead letters")], kind="stat", width=6, height=4),
    ]),
    Row("Traffic", [
        Panel("Throughput by dataset and lane", [(
            f"sum by (dataset, lane) (rate(particulier_requests_total{{{REQ}}}[{RI}]))",
            "{{dataset}} {{lane}}")], unit="reqps"),
        Panel("Replies by status", [(
            f"sum by (status) (rate(particulier_requests_total{{{REQ}}}[{RI}]))",
            "{{status}}")], unit="reqps", stack=True),
        Panel("Error codes", [(
            f'sum by (dataset, status, code) (rate(particulier_requests_total{{{REQ}, code!=""}}'
            f"[{RI}]))", "{{dataset}} {{status}} {{code}}")], unit="reqps",
            description="API Particulier error codes: two-digit provider number and "
            "three-digit subcode; 00xxx are the broker's own."),
        Panel("5xx ratio by dataset", [(
            f'sum by (dataset) (rate(particulier_requests_total{{{REQ}, status=~"5.."}}[{RI}])) '
            f"/ sum by (dataset) (rate(particulier_requests_total{{{REQ}}}[{RI}]))",
            "{{dataset}}")], unit="percentunit"),
    ]),
    Row("Latency", [
        Panel("Processing time by lane (delivery to ack)",
              _quantiles("particulier_processing_seconds", REQ, "lane", "{{lane}}"), unit="s"),
        Panel("Interactive p99 by dataset", [(
            "histogram_quantile(0.99, sum by (dataset, le) (rate(particulier_processing_seconds_"
            f'bucket{{dataset=~"$dataset", lane="interactive"}}[{RI}])))', "{{dataset}}")],
            unit="s", description="Alert ParticulierInteractiveLatencyHigh fires above 2.5 s."),
        Panel("Upstream time by provider (one attempt)",
              _quantiles("particulier_upstream_seconds", UP, "provider", "{{provider}}"),
              unit="s"),
        Panel("Upstream calls by provider", [(
            f"sum by (provider) (rate(particulier_upstream_seconds_count{{{UP}}}[{RI}]))",
            "{{provider}}")], unit="reqps"),
    ]),
    Row("Workers and upstreams", [
        Panel("In flight by lane", [(
            f'sum by (lane) (particulier_in_flight{{lane=~"$lane"}})', "{{lane}}")],
            description="Requests being processed; bounded per worker by the lane's prefetch "
            "(PARTICULIER_INTERACTIVE_PREFETCH, PARTICULIER_BULK_PREFETCH)."),
        Panel("In flight by worker", [(
            'sum by (instance, lane) (particulier_in_flight{lane=~"$lane"})',
            "{{instance}} {{lane}}")]),
        Panel("Upstream retries", [(
            f"sum by (provider) (rate(particulier_upstream_retries_total{{{UP}}}[{RI}]))",
            "{{provider}}")], unit="ops"),
        Panel("Upstream errors by kind", [(
            f"sum by (provider, kind) (rate(particulier_upstream_errors_total{{{UP}}}[{RI}]))",
            "{{provider}} {{kind}}")], unit="ops", stack=True,
            description="Failures after retries: timeout, connect, status_5xx, rate_limited; "
            "invalid means an answer the mapping could not read."),
        Panel("Dead letters by reason", [(
            f"sum by (reason) (rate(particulier_dead_letters_total[{RI}]))", "{{reason}}")],
            unit="ops"),
        Panel("Journal waits", [(
            f"sum by (instance) (rate(particulier_journal_unavailable_total[{RI}]))",
            "{{instance}}")], unit="ops",
            description="Requests held because the journal (PostgreSQL) was unreachable."),
    ]),
    Row("RabbitMQ", [
        Panel("Ready messages by lane queue", [(
            f"sum by (queue) (rabbitmq_detailed_queue_messages_ready{{{LANE_QUEUES}}})",
            "{{queue}}")]),
        Panel("Unacknowledged by lane queue", [(
            f"sum by (queue) (rabbitmq_detailed_queue_messages_unacked{{{LANE_QUEUES}}})",
            "{{queue}}")]),
        Panel("Consumers by lane queue", [(
            f"sum by (queue) (rabbitmq_detailed_queue_consumers{{{LANE_QUEUES}}})",
            "{{queue}}")]),
        Panel("Dead-letter queue", [(
            'sum(rabbitmq_detailed_queue_messages{queue="particulier.dead"})',
            "particulier.dead")]),
    ]),
]


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    if panel.kind == "timeseries":
        custom = {"fillOpacity": 10, "lineWidth": 1, "showPoints": "never",
                  "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"}}
    doc: dict[str, Any] = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit, "custom": custom}, "overrides": []},
        "options": panel.options or (
            {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
             "tooltip": {"mode": "multi", "sort": "desc"}}
            if panel.kind == "timeseries"
            else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                  "colorMode": "value", "graphMode": "area"}
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
        panels.append({"id": pid, "type": "row", "title": row.title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
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
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource",
             "query": "prometheus", "refresh": 1, "hide": 0,
             "current": {"selected": True, "text": "Prometheus", "value": "prometheus"}},
            _variable("dataset", "Dataset", "label_values(particulier_requests_total, dataset)"),
            {"name": "lane", "label": "Lane", "type": "custom",
             "query": "interactive,bulk", "multi": True, "includeAll": True, "allValue": ".*",
             "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
             "options": [
                 {"selected": True, "text": "All", "value": "$__all"},
                 {"selected": False, "text": "interactive", "value": "interactive"},
                 {"selected": False, "text": "bulk", "value": "bulk"},
             ]},
            _variable("provider", "Provider",
                      "label_values(particulier_upstream_seconds_count, provider)"),
        ]},
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
        print("deploy/grafana/dashboard.json drifted: run python deploy/grafana/generate.py",
              file=sys.stderr)
        return 1
    DASHBOARD.write_text(text, encoding="utf-8")
    print("wrote deploy/grafana/dashboard.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
