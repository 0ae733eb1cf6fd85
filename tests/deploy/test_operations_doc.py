"""docs/operations.md covers what operators need and stays in step with the code: every
setting, every metric, every alert, the pointers to the other guides."""

from __future__ import annotations

import re

import yaml

from .helpers import DEPLOY, ROOT, broker_metrics, github_anchors
from .test_compose import known_environment

DOC = ROOT / "docs" / "operations.md"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    table = {m for m in re.findall(r"^\| `(PARTICULIER_[A-Z_]+)` \|", _doc(), re.MULTILINE)}
    assert known_environment() - table == set(), "settings the guide does not document"
    assert table - known_environment() == set(), "documented settings nothing reads"


def test_every_metric_is_documented() -> None:
    documented = set(re.findall(r"`(particulier_[a-z_]+)`", _doc()))
    for name in broker_metrics():
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert base in documented or name in documented, name


def test_every_alert_has_its_section() -> None:
    anchors = github_anchors(_doc())
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["runbook_url"].split("#")[1] in anchors, rule["alert"]


def test_internal_links_resolve() -> None:
    text = _doc()
    anchors = github_anchors(text)
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, target
    for page, anchor in re.findall(r"\]\(([a-z_]+\.md)(?:#([^)]+))?\)", text):
        other = ROOT / "docs" / page
        assert other.exists(), page
        if anchor:
            assert anchor in github_anchors(other.read_text(encoding="utf-8")), f"{page}#{anchor}"


def test_topics_the_brief_asks_for() -> None:
    text = _doc()
    for words in (
        "KEDA",
        "ScaledObject",
        "three",
        "quorum queue",
        "partition",
        "rabbitmqadmin",
        "shovel",
        "dead_letters.py",
        "restart",
        "certification.md",
        "journal.md",
        "--scale worker=",
    ):
        assert words in text, words
