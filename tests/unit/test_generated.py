"""Checked-in generated files match what the declarations generate today."""

from __future__ import annotations

from pathlib import Path

from broker.tooling.docs import datasets_markdown
from broker.tooling.schemas import documents, render

ROOT = Path(__file__).resolve().parents[2]


def test_schemas_do_not_drift() -> None:
    expected = documents()
    for name, document in expected.items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"{name} missing: run `particulier schemas export`"
        assert path.read_text(encoding="utf-8") == render(document), (
            f"{name} drifted: run `particulier schemas export`"
        )
    on_disk = {
        p.relative_to(ROOT / "schemas").as_posix() for p in (ROOT / "schemas").rglob("*.json")
    }
    assert on_disk == set(expected), "stale files in schemas/"


def test_asyncapi_describes_request_reply() -> None:
    doc = documents()["asyncapi.json"]
    assert doc["asyncapi"].startswith("3.")
    operation = doc["operations"]["sendRequest"]
    assert operation["reply"]["address"]["location"] == "$message.header#/reply_to"
    message = next(iter(doc["components"]["messages"].values()))
    assert message["correlationId"]["location"] == "$message.header#/correlation_id"


def test_datasets_doc_does_not_drift() -> None:
    path = ROOT / "docs" / "datasets.md"
    assert path.read_text(encoding="utf-8") == datasets_markdown(), (
        "docs/datasets.md drifted: run `particulier docs datasets`"
    )
