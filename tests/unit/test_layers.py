"""The floor plan holds at run time: a worker process never loads the simulation wing, and the
agency SDK loads nothing of the server. (import-linter checks the same statically.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_worker_process_imports_no_simulator_population_or_yaml() -> None:
    loaded = _loaded(
        "from broker import registry, runtime\n"
        "from broker.tooling import cli\n"
        "providers = registry.providers()\n"
        "assert providers and all(p.datasets for p in providers.values())"
    )
    simulation = [
        m
        for m in loaded
        if m == "yaml" or m.startswith(("yaml.", "broker.simulation")) or m.endswith(".simulator")
    ]
    assert simulation == []


@pytest.mark.parametrize("entry", ["broker.sdk", "broker.sdk.proof", "broker.sdk.contract"])
def test_the_sdk_imports_nothing_of_the_server(entry: str) -> None:
    loaded = _loaded(f"import {entry}")
    server = [m for m in loaded if m.startswith("broker.") and not m.startswith("broker.sdk")]
    third_party = {"asyncpg", "pydantic_settings", "yaml", "typer", "tenacity", "joserfc"}
    assert server == []
    assert third_party.isdisjoint(m.split(".")[0] for m in loaded)
