"""deploy/k8s: the worker Deployment's probes, drain time and resources agree with the worker
runtime, the simulator is reachable where the config says, and KEDA scales on the lane queues
that exist."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from broker.config import Settings

from .helpers import DEPLOY, ROOT
from .test_compose import known_environment

K8S = DEPLOY / "k8s"


def _documents() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        path = K8S / resource
        assert path.exists(), f"kustomization lists a missing {resource}"
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _find(kind: str, name: str) -> dict:
    for doc in _documents():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name}")


def _container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _stop_grace() -> float:
    """The default drain time of Worker.stop, read from broker/runtime/_edge.py."""
    tree = ast.parse((ROOT / "broker" / "runtime" / "_edge.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "stop":
            names = [a.arg for a in node.args.args]
            default = node.args.defaults[names.index("grace") - len(names)]
            return float(ast.literal_eval(default))
    raise AssertionError("Worker.stop not found")


def test_every_manifest_is_well_formed() -> None:
    docs = _documents()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "particulier-worker"),
        ("Deployment", "particulier-simulator"),
        ("Service", "particulier-simulator"),
        ("ScaledObject", "particulier-worker"),
        ("ConfigMap", "particulier-config"),
    } <= kinds
    for doc in docs:
        assert doc["apiVersion"] and doc["metadata"]["name"]
    for path in K8S.glob("*.yaml"):  # secret.example.yaml too, though not applied
        list(yaml.safe_load_all(path.read_text()))


def test_worker_probes_serve_on_the_metrics_port() -> None:
    worker = _find("Deployment", "particulier-worker")
    container = _container(worker)
    port = Settings.model_fields["metrics_port"].default
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == port
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    # a RabbitMQ restart makes /healthz answer 503 while the worker reconnects by itself:
    # liveness must not restart it for that
    assert container["livenessProbe"]["httpGet"]["path"] != "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"] == ["worker", "--all", "--processes", "1"]
    config = _find("ConfigMap", "particulier-config")["data"]
    assert config["PARTICULIER_METRICS_PORT"] == str(port)
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)


def test_termination_grace_outlasts_the_drain() -> None:
    spec = _find("Deployment", "particulier-worker")["spec"]["template"]["spec"]
    grace = spec["terminationGracePeriodSeconds"]
    assert grace >= _stop_grace() + 10, "SIGKILL would cut the drain short"
    lifecycle = _container({"spec": {"template": {"spec": spec}}}).get("lifecycle", {})
    pre_stop = lifecycle.get("preStop", {})
    sleep = re.search(r"sleep\s+(\d+)", json.dumps(pre_stop))
    if sleep:  # a preStop sleep eats into the grace period
        assert grace >= _stop_grace() + 10 + int(sleep.group(1))


def test_worker_resources_and_security() -> None:
    worker = _find("Deployment", "particulier-worker")
    container = _container(worker)
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["limits"]["memory"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert worker["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/keys"]["readOnly"] is True
    config = _find("ConfigMap", "particulier-config")["data"]
    assert config["PARTICULIER_SIGNING_KEYS_DIR"] == "/keys"


def test_environment_names_are_read_by_the_code() -> None:
    known = known_environment()
    config = _find("ConfigMap", "particulier-config")["data"]
    env = [e["name"] for e in _container(_find("Deployment", "particulier-worker"))["env"]]
    for name in [*config, *env]:
        assert name in known, f"nothing reads {name}"


def test_simulator_service_is_where_the_workers_look() -> None:
    simulator = _find("Deployment", "particulier-simulator")
    service = _find("Service", "particulier-simulator")
    labels = simulator["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    container = _container(simulator)
    assert container["readinessProbe"]["httpGet"]["path"] == "/_admin/health"
    assert "0.0.0.0" in container["args"]
    port = service["spec"]["ports"][0]["port"]
    url = _find("ConfigMap", "particulier-config")["data"]["PARTICULIER_SIMULATOR_URL"]
    assert url == f"http://{service['metadata']['name']}:{port}"


@pytest.mark.parametrize("lane", ["interactive", "bulk"])
def test_keda_scales_on_exactly_the_lane_queues(lane: str) -> None:
    scaled = _find("ScaledObject", "particulier-worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "particulier-worker"
    assert 1 < scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    trigger = next(t for t in scaled["spec"]["triggers"] if t["name"] == f"{lane}-backlog")
    meta = trigger["metadata"]
    assert trigger["type"] == "rabbitmq" and meta["protocol"] == "http"
    assert meta["useRegex"] == "true" and meta["operation"] == "sum"
    queues = [
        q["name"]
        for q in json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())["queues"]
    ]
    matched = {q for q in queues if re.search(meta["queueName"], q)}
    assert matched == {q for q in queues if q.endswith(f".{lane}")} != set()
    auth = trigger["authenticationRef"]["name"]
    assert _find("TriggerAuthentication", auth)
