"""schemathesis's OpenAPI-driven property tests against the gateway, with API Particulier's
own OpenAPI file (``shared/reference``): generated requests of every route, valid and not, get
no server error and responses valid against the document."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broker.simulation import shared_dir

from ..conftest import RunningGateway

EXAMPLES = int(os.environ.get("PARTICULIER_SCHEMATHESIS_EXAMPLES", "15"))
"""Generated requests per route (CI keeps the default; raise it to search longer)."""


def _openapi() -> Path:
    shared = shared_dir()
    assert shared is not None, "the shared folder is there"
    return shared / "reference" / "api-particulier-openapi-v3.yaml"


async def test_schemathesis_finds_no_server_error_and_no_invalid_response(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert binary is not None, "schemathesis is a dev dependency (pyproject.toml)"
    report = tmp_path / "junit.xml"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            binary,
            "run",
            str(_openapi()),
            "--url",
            gateway.url,
            "--header",
            f"Authorization: Bearer {gateway.token}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(EXAMPLES),
            "--generation-deterministic",
            "--workers",
            "4",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.fail(f"schemathesis found failures:\n{done.stdout[-8000:]}\n{done.stderr[-2000:]}")
    assert "Tested: 35" in done.stdout, done.stdout[-3000:]  # every route of the document ran
