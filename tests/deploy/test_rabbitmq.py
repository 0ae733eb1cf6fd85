"""deploy/rabbitmq: the definitions RabbitMQ imports at boot agree with broker/topology.py, the
dev logins' hashes are RabbitMQ's, and rabbitmq.conf only uses keys RabbitMQ knows."""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import re
from pathlib import Path

import pytest

from broker import registry, topology
from broker.sdk.contract import DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE

from .helpers import DEPLOY, load

RABBITMQ = DEPLOY / "rabbitmq"
generate = load(RABBITMQ / "generate.py")


def _json(name: str) -> dict:
    return json.loads((RABBITMQ / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(generate.expected(), key=str), ids=lambda p: p.name)
def test_checked_in_definitions_do_not_drift(path: Path) -> None:
    assert path.exists(), f"{path.name} missing: run python deploy/rabbitmq/generate.py"
    assert path.read_text(encoding="utf-8") == generate.expected()[path], (
        f"{path.name} drifted from broker/topology.py and the provider packages: "
        "run python deploy/rabbitmq/generate.py"
    )


def test_definitions_hold_every_lane_queue_as_topology_declares_it() -> None:
    """Checked against the code directly, not through the generator."""
    defs = _json("definitions.json")
    queues = {(q["vhost"], q["name"]): q for q in defs["queues"]}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]}
    exchanges = {e["name"]: e for e in defs["exchanges"]}
    assert exchanges[EXCHANGE]["type"] == "topic" and exchanges[EXCHANGE]["durable"]
    assert exchanges[DEAD_EXCHANGE]["type"] == "fanout" and exchanges[DEAD_EXCHANGE]["durable"]
    assert queues[("/", DEAD_QUEUE)]["arguments"] == {"x-queue-type": "quorum"}
    assert (DEAD_EXCHANGE, DEAD_QUEUE, "") in bindings
    expected = {DEAD_QUEUE}
    assert registry.providers(), "no provider package found"
    for provider in topology.served(registry.providers()):
        for spec in topology.queues_for(provider):
            expected.add(spec.name)
            queue = queues.get(("/", spec.name))
            assert queue is not None, f"{spec.name} missing from definitions.json"
            # RabbitMQ refuses a redeclaration whose arguments differ (PRECONDITION_FAILED):
            # the workers' own declarations at start must find exactly these.
            assert queue["arguments"] == spec.arguments
            assert queue["arguments"]["x-queue-type"] == "quorum"
            assert queue["durable"] and not queue["auto_delete"]
            assert (EXCHANGE, spec.name, spec.binding) in bindings
    assert set(name for _, name in queues) == expected, "queues no provider declares"
    assert all(b["destination"] in expected for b in defs["bindings"])


def test_lane_policies_match_every_lane_queue_and_nothing_else() -> None:
    defs = _json("definitions.json")
    names = [q["name"] for q in defs["queues"]]
    for policy in defs["policies"]:
        lane = policy["name"].split("-")[1]
        matched = {n for n in names if re.search(policy["pattern"], n)}
        assert matched == {n for n in names if n.endswith(f".{lane}")} != set()
        assert policy["apply-to"] == "queues"
        assert policy["definition"]["max-length"] > 0
    # a policy cannot override queue arguments: the overflow behaviour comes from topology.py
    lane_queue = next(q for q in defs["queues"] if q["name"] != DEAD_QUEUE)
    assert lane_queue["arguments"]["x-overflow"] == "reject-publish"


def test_dev_users_hashes_are_rabbitmq_sha256_of_their_name() -> None:
    users = _json("users.dev.json")
    for user in users["users"]:
        assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
        raw = base64.b64decode(user["password_hash"])
        salt, digest = raw[:4], raw[4:]
        assert digest == hashlib.sha256(salt + user["name"].encode()).digest(), user["name"]
    names = {u["name"] for u in users["users"]}
    assert {p["user"] for p in users["permissions"]} == names
    for permission in users["permissions"]:
        for kind in ("configure", "write", "read"):
            re.compile(permission[kind])


def test_worker_and_agency_permissions_fit_what_they_do() -> None:
    perms = {p["user"]: p for p in _json("users.dev.json")["permissions"]}
    worker = perms[generate.WORKER_USER]
    lane = topology.queue_name(next(iter(registry.providers())), "interactive")
    for resource in (EXCHANGE, DEAD_EXCHANGE, DEAD_QUEUE, lane):
        assert re.match(worker["configure"], resource), resource  # topology.apply
        assert re.match(worker["read"], resource), resource  # consume, bind
    assert re.match(worker["write"], "amq.default")  # replies through the default exchange
    assert re.match(worker["write"], DEAD_EXCHANGE)
    assert not re.match(worker["write"], "reply.demo.1234")  # never writes into agency queues
    agency = perms[generate.DEMO_USER]
    assert re.fullmatch(agency["write"], EXCHANGE)
    assert re.match(agency["configure"], f"reply.{generate.DEMO_USER}.0f3a")
    assert not re.match(agency["configure"], "reply.someone_else.0f3a")
    assert not re.match(agency["read"], lane)  # an agency never reads the lanes
    assert not re.match(agency["write"], DEAD_EXCHANGE)
    admin = _json("users.dev.json")["users"][0]
    assert "impersonator" in admin["tags"], "dead-letter replay keeps the original user_id"


def _conf(name: str = "rabbitmq.conf") -> dict[str, str]:
    pairs = {}
    for line in (RABBITMQ / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not a key = value line: {line!r}"
        assert key.strip() not in pairs, f"{key.strip()} set twice"
        pairs[key.strip()] = value.strip()
    return pairs


def test_conf_loads_the_definitions_directory_compose_mounts() -> None:
    conf = _conf()
    assert conf["definitions.import_backend"] == "local_filesystem"
    compose = (DEPLOY.parent / "docker-compose.yml").read_text(encoding="utf-8")
    directory = conf["definitions.local.path"].rstrip("/")
    for name in ("definitions.json", "users.dev.json"):
        assert re.search(
            rf"deploy/rabbitmq/{re.escape(name)}:{re.escape(directory)}/[\w.-]+\.json", compose
        ), f"{name} is not mounted in {directory}"
    assert int(conf["consumer_timeout"]) > 60_000
    assert conf["queue_leader_locator"] == "balanced"


def test_conf_keys_exist_in_the_installed_rabbitmq_schema() -> None:
    schemas = glob.glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/*/priv/schema/*.schema")
    if not schemas:
        pytest.skip("no RabbitMQ installed here: cannot check keys against its schema")
    patterns = []
    for path in schemas:
        for mapping in re.findall(r'\{mapping,\s*"([^"]+)"', Path(path).read_text("utf-8")):
            patterns.append(re.compile(re.sub(r"\\\$\w+", r"[^.]+", re.escape(mapping)) + "$"))
    keys = [*_conf(), *_conf("compose.conf")]
    unknown = [k for k in keys if not any(p.match(k) for p in patterns)]
    assert not unknown, f"keys RabbitMQ would refuse at boot: {unknown}"


def test_enabled_plugins_are_an_erlang_list_of_installed_plugins() -> None:
    text = (RABBITMQ / "enabled_plugins").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"\[([a-z_,\s]+)\]\.", text)
    assert match, "enabled_plugins must be an Erlang list of atoms ending with a dot"
    plugins = {p.strip() for p in match.group(1).split(",")}
    assert {"rabbitmq_management", "rabbitmq_prometheus"} <= plugins
    installed = glob.glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/")
    if installed:
        present = {
            re.sub(r"-[\d.]+(\.ez)?$", "", Path(p).name) for p in glob.glob(installed[0] + "*")
        }
        assert plugins <= present, plugins - present
