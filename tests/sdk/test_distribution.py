"""The agency SDK on its own: its wheel, installed into a clean virtual env with only its own
dependencies, asks the broker and checks the proof with the published JWKS."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

AGENCY_SCRIPT = """
import asyncio, json, sys
from broker.sdk import Client, load_jwks

async def main():
    async with Client(jwks=load_jwks()) as client:
        reply = await client.request(
            "cnav.quotient_familial", json.loads(sys.argv[1]),
            recipient="13002526500013", timeout=20,
        )
    server = [m for m in sys.modules if m.startswith("broker.") and not m.startswith("broker.sdk")]
    print(json.dumps({"status": reply.status, "provider": reply.body.meta.provider,
                      "verified": reply.body.proof is not None, "server_modules": server}))

asyncio.run(main())
"""

SERVER_DEPENDENCIES = ("asyncpg", "pydantic_settings", "yaml", "typer", "tenacity", "joserfc")


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtual env (no system site packages) holding the SDK's wheel alone."""
    base = tmp_path_factory.mktemp("sdk")
    built = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_sdk.py"), str(base / "dist")],
        check=True,
        capture_output=True,
        text=True,
    )
    wheel = built.stdout.strip().splitlines()[-1]
    venv.EnvBuilder(with_pip=True, clear=True).create(base / "venv")
    python = base / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel],
        check=True,
        timeout=600,
    )
    return python


@pytest.mark.slow
def test_the_sdk_wheel_holds_the_sdk_and_installs_only_its_own_dependencies(
    sdk_python: Path, tmp_path: Path
) -> None:
    probe = (
        "import importlib.util, json, broker, broker.sdk;"
        f"print(json.dumps([n for n in {SERVER_DEPENDENCIES!r} if importlib.util.find_spec(n)]"
        " + [p.name for p in __import__('pathlib').Path(broker.__file__).parent.iterdir()"
        " if p.name not in ('__init__.py', 'sdk', '__pycache__')]))"
    )
    found = subprocess.run(
        [str(sdk_python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert json.loads(found) == []


@pytest.mark.slow
async def test_an_agency_with_only_the_sdk_gets_a_verified_reply(
    sdk_python: Path, worker: object, tmp_path: Path
) -> None:
    from broker.simulation import Population

    person = next(p for p in map(Population(1_000_000).person, range(100)) if p.found)
    env = {
        "PATH": os.environ["PATH"],
        "PARTICULIER_AMQP_URL": os.environ["PARTICULIER_AMQP_URL"],
        "PARTICULIER_JWKS": os.environ["PARTICULIER_JWKS"],
    }
    agency = await asyncio.create_subprocess_exec(
        str(sdk_python),
        "-c",
        AGENCY_SCRIPT,
        json.dumps(person.params()),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(agency.communicate(), timeout=60)
    assert agency.returncode == 0, err.decode()[-2000:]
    assert json.loads(out) == {
        "status": 200,
        "provider": "CNAV",
        "verified": True,
        "server_modules": [],
    }
