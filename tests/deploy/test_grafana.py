"""deploy/grafana: the dashboard is the generator's output, well-formed, laid out on Grafana's
24-column grid, and every panel's PromQL parses and names metrics that exist."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from .helpers import DEPLOY, load, metric_problems, promtool

GRAFANA = DEPLOY / "grafana"
generate = load(GRAFANA / "generate.py")

VARIABLES = {"$__rate_interval": "5m", "$dataset": ".*", "$lane": ".*", "$provider": ".*"}


def _dashboard() -> dict:
    return json.loads((GRAFANA / "dashboard.json").read_text(encoding="utf-8"))


def _targets() -> list[tuple[str, str]]:
    return [
        (f"{panel['title']} {target['refId']}", target["expr"])
        for panel in _dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def _concrete(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown dashboard variable in {expr}"
    return expr


def test_dashboard_does_not_drift() -> None:
    assert (GRAFANA / "dashboard.json").read_text(encoding="utf-8") == generate.render(), (
        "deploy/grafana/dashboard.json drifted: run python deploy/grafana/generate.py"
    )


def test_dashboard_structure() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "dataset", "lane", "provider"} <= variables
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in (
        "throughput",
        "status",
        "error codes",
        "processing",
        "upstream time",
        "in flight",
        "retries",
        "upstream errors",
        "dead letters",
    ):
        assert topic in titles, f"no panel about {topic}"


def test_every_expression_names_existing_metrics() -> None:
    problems = {name: metric_problems(_concrete(expr)) for name, expr in _targets()}
    assert not {k: v for k, v in problems.items() if v}


def test_every_expression_parses(tmp_path: Path) -> None:
    """promtool has no offline query parser: each expression becomes a recording rule."""
    tool = promtool()
    rules = [
        {
            "record": f"dashboard:{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}",
            "expr": _concrete(expr),
        }
        for name, expr in _targets()
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(
        [tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(rules)} rules found" in done.stdout


def test_provisioning_points_at_the_dashboard_and_its_datasource() -> None:
    datasource = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    variable = next(v for v in _dashboard()["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"]["value"] == datasource["uid"]
    assert datasource["type"] == "prometheus"
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "particulier.yml").read_text()
    )["providers"][0]
    compose = (DEPLOY.parent / "docker-compose.yml").read_text()
    assert f"./deploy/grafana/dashboard.json:{provider['options']['path']}/" in compose
