"""deploy/prometheus: the config and the alert rules load in promtool, the rules' unit tests
pass, every alert is tested, uses metrics that exist and links to its runbook section."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from .helpers import DEPLOY, ROOT, github_anchors, metric_problems, promtool

PROMETHEUS = DEPLOY / "prometheus"
SEVERITIES = {"critical", "warning", "info"}


def _rules() -> list[dict]:
    document = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _promtool(*args: str) -> None:
    done = subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


def test_promtool_check_rules() -> None:
    _promtool("check", "rules", "alerts.yml")


def test_promtool_check_config() -> None:
    _promtool("check", "config", "prometheus.yml")


def test_promtool_test_rules() -> None:
    _promtool("test", "rules", "alerts_test.yml")


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.get("alert", r.get("record")))
def test_alert_is_sound(rule: dict) -> None:
    assert "alert" in rule, "alerts.yml holds alerts only"
    assert not metric_problems(rule["expr"]), metric_problems(rule["expr"])
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert {"summary", "description", "runbook_url"} <= set(annotations)
    page, _, anchor = annotations["runbook_url"].partition("#")
    assert page == "docs/operations.md"
    doc = ROOT / page
    assert doc.exists(), "docs/operations.md missing"
    assert anchor in github_anchors(doc.read_text(encoding="utf-8")), (
        f"{rule['alert']}: no section #{anchor} in docs/operations.md"
    )


def test_every_alert_is_unit_tested_firing() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text(encoding="utf-8"))
    assert tests["rule_files"] == ["alerts.yml"]
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    names = [rule["alert"] for rule in _rules()]
    assert len(names) == len(set(names)), "two alerts with one name"
    assert set(names) - fired == set(), "alerts no test sees firing"


def test_scrape_jobs_are_the_ones_the_rules_select() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"particulier-worker", "rabbitmq", "rabbitmq-queues"} <= set(jobs)
    assert config["rule_files"] == ["alerts.yml"]
    rules = (PROMETHEUS / "alerts.yml").read_text(encoding="utf-8")
    assert 'job="particulier-worker"' in rules and 'job="rabbitmq"' in rules
    # the workers' port, from broker/config.py
    from broker.config import Settings

    port = Settings.model_fields["metrics_port"].default
    worker = jobs["particulier-worker"]
    assert worker["metrics_path"] == "/metrics"
    assert worker["dns_sd_configs"][0]["port"] == port
    queues = jobs["rabbitmq-queues"]
    assert queues["metrics_path"] == "/metrics/detailed"
    assert set(queues["params"]["family"]) == {"queue_coarse_metrics", "queue_consumer_count"}
