"""docker-compose.yml and deploy/Dockerfile. No container engine runs here, so the stack is
not started: its structure is checked instead (services, images, dependencies, mounts,
environment names, scalability of the workers)."""

from __future__ import annotations

import importlib
import re

import yaml
from pydantic_settings import BaseSettings

from broker.config import Settings

from .helpers import DEPLOY, ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
APP_IMAGE = "api-particulier-broker:local"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _services() -> dict[str, dict]:
    return _compose()["services"]


def known_environment() -> set[str]:
    """PARTICULIER_* names some code reads: the fields of every settings class of broker/
    (pydantic-settings, prefix PARTICULIER_), and the names the sources spell out."""
    names = {f"PARTICULIER_{field.upper()}" for field in Settings.model_fields}
    for path in (ROOT / "broker").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"PARTICULIER_[A-Z_]+[A-Z]", text))
        if 'env_prefix="PARTICULIER_"' not in text:
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value.model_config.get("env_prefix") == "PARTICULIER_"
            ):
                names |= {f"PARTICULIER_{field.upper()}" for field in value.model_fields}
    return names


def test_every_service_of_the_stack_is_there() -> None:
    services = _services()
    assert {"rabbitmq", "postgres", "setup", "simulator", "worker", "prometheus", "grafana"} <= set(
        services
    )
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    for name in ("setup", "simulator", "worker"):
        assert services[name]["image"] == APP_IMAGE
        assert services[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}


def test_setup_runs_the_three_commands_once_before_the_workers() -> None:
    services = _services()
    script = services["setup"]["command"][0]
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[:3] == [
        "particulier db migrate",
        "particulier habilitations seed-demo",
        "particulier topology apply",
    ]
    assert services["setup"]["restart"] == "no"
    assert services["setup"]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert services["setup"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    worker = services["worker"]
    assert worker["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["simulator"]["condition"] == "service_healthy"
    assert worker["command"] == ["worker", "--all", "--processes", "1"]


def test_workers_scale() -> None:
    """`docker compose up --scale worker=3`: no fixed name, no host port, shared keys."""
    worker = _services()["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "keys:/keys:ro" in worker["volumes"]
    assert "keys:/keys" in _services()["setup"]["volumes"]
    assert worker["environment"]["PARTICULIER_SIGNING_KEYS_DIR"] == "/keys"
    # longer than Worker.stop's 30 s drain
    assert int(worker["stop_grace_period"].rstrip("s")) > 30
    assert "9108/healthz" in " ".join(worker["healthcheck"]["test"])


def test_every_bind_mount_exists() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts a missing {source}"


def test_environment_names_are_read_by_the_code() -> None:
    known = known_environment()
    for name, service in _services().items():
        for variable in service.get("environment", {}):
            if variable.startswith("PARTICULIER_"):
                assert variable in known, f"{name}: nothing reads {variable}"


def test_amqp_logins_exist_in_the_dev_definitions() -> None:
    import json

    users = {
        u["name"] for u in json.loads((DEPLOY / "rabbitmq" / "users.dev.json").read_text())["users"]
    }
    for name, service in _services().items():
        url = service.get("environment", {}).get("PARTICULIER_AMQP_URL")
        if url:
            login, password = re.match(r"amqp://([^:]+):([^@]+)@rabbitmq:5672/", url).groups()
            assert login in users and password == login, name


def test_prometheus_and_grafana_get_their_files() -> None:
    services = _services()
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    mounts = " ".join(services["grafana"]["volumes"])
    assert "deploy/grafana/provisioning/datasources" in mounts
    assert "deploy/grafana/provisioning/dashboards" in mounts


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = [
        line.split(None, 1)
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not line.startswith((" ", "\t"))
    ]
    froms = [rest for op, *rest in instructions if op == "FROM"]
    assert froms and all(f[0].startswith("python:3.11-slim") for f in froms)
    assert any(op == "RUN" and "pip install ." in rest[0] for op, *rest in instructions)
    users = [rest[0] for op, *rest in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["particulier"]' in text
    ignore = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*", "the build context must start empty (no .venv, no .git, no keys)"
    assert {"!pyproject.toml", "!README.md", "!broker/", "!workers/"} <= set(ignore)
    copied = {
        source
        for op, *rest in instructions
        if op == "COPY" and not rest[0].startswith("--from")
        for source in rest[0].split()[:-1]
    }
    assert {"pyproject.toml", "broker", "workers"} <= copied
    for source in copied:
        assert (ROOT / source).exists(), f"COPY of a missing {source}"


def test_image_contains_what_the_compose_commands_run() -> None:
    """Compose runs `particulier <command>`: each must be a CLI command."""
    from broker.tooling.cli import app

    commands = {command.name for command in app.registered_commands}
    groups = {group.name for group in app.registered_groups}
    assert {"worker", "simulator"} <= commands
    assert "topology" in groups
