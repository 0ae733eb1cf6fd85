"""Write the RabbitMQ definitions that RabbitMQ imports at boot, from the code that declares them.

    python deploy/rabbitmq/generate.py           # rewrite the files
    python deploy/rabbitmq/generate.py --check   # exit 1 when a checked-in file has drifted

Two files, both imported from the ``definitions.d`` directory that ``rabbitmq.conf`` points to:

``definitions.json``
    The topology, for every environment: the ``/`` vhost, exchanges ``particulier.requests``
    (topic) and ``particulier.dead`` (fanout), the quorum queue ``particulier.dead``, each
    provider's two lane quorum queues with exactly the arguments that
    :func:`broker.topology.queues_for` declares (so that the workers' own idempotent
    declarations at start agree with what RabbitMQ already has), their bindings, and the lane
    policies. Regenerate it whenever a provider package is added: a test fails until you do.

``users.dev.json``
    Development logins for ``docker compose`` only (the password of each is its name): the
    operators' ``particulier_admin``, the workers' ``particulier_worker`` and the demo
    agency's ``guest`` (with an agency's permissions). A node
    that imports definitions at boot does not create the ``guest`` user, so the compose stack
    needs its own. Production creates its users from secrets (see docs/operations.md), never
    from this file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from broker import registry, topology  # noqa: E402
from broker.habilitations import DEMO_USER  # noqa: E402
from broker.habilitations.provision import agency_permissions  # noqa: E402
from broker.sdk.contract import DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE  # noqa: E402

VHOST = "/"
DEFINITIONS = HERE / "definitions.json"
DEV_USERS = HERE / "users.dev.json"

LANE_MAX_LENGTH = {"interactive": 100_000, "bulk": 2_000_000}
"""Ready messages a lane queue holds before RabbitMQ refuses more (the queues declare
``x-overflow: reject-publish``, so the publisher's confirm is a nack and the SDK backs off).

Without a bound, a runaway nightly run could fill the disk, and RabbitMQ's disk alarm blocks
every publisher, interactive ones included: a bulk run must never starve interactive traffic.
A nightly run is 10^5 to 10^6 households on one dataset; a person waiting behind 10^5
interactive requests has long given up."""

WORKER_USER = "particulier_worker"
ADMIN_USER = "particulier_admin"
# DEMO_USER: the login ``particulier habilitations seed-demo`` binds the demo agency to
# (``guest``); in the compose stack it gets an agency's permissions, not guest's usual ``.*``.


def _queue(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": VHOST,
        "durable": True,
        "auto_delete": False,
        "arguments": dict(sorted(arguments.items())),
    }


def _exchange(name: str, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": VHOST,
        "type": kind,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def _binding(source: str, queue: str, key: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": VHOST,
        "destination": queue,
        "destination_type": "queue",
        "routing_key": key,
        "arguments": {},
    }


def definitions(providers: list[str] | None = None) -> dict[str, Any]:
    """The topology of ``providers`` (default: every provider package) as RabbitMQ definitions."""
    names = topology.served(sorted(providers if providers is not None else registry.providers()))
    queues = [_queue(DEAD_QUEUE, {"x-queue-type": "quorum"})]
    bindings = [_binding(DEAD_EXCHANGE, DEAD_QUEUE, "")]
    for provider in names:
        for spec in topology.queues_for(provider):
            queues.append(_queue(spec.name, spec.arguments))
            bindings.append(_binding(EXCHANGE, spec.name, spec.binding))
    policies = [
        {
            "vhost": VHOST,
            "name": f"particulier-{lane}-lanes",
            "pattern": rf"^particulier\.[a-z0-9_]+\.{lane}$",
            "apply-to": "queues",
            "priority": 10,
            "definition": {"max-length": limit},
        }
        for lane, limit in LANE_MAX_LENGTH.items()
    ]
    return {
        "vhosts": [
            {
                "name": VHOST,
                "description": "API Particulier broker",
                "tags": [],
                "metadata": {"description": "API Particulier broker", "tags": []},
            }
        ],
        "exchanges": [_exchange(EXCHANGE, "topic"), _exchange(DEAD_EXCHANGE, "fanout")],
        "queues": queues,
        "bindings": bindings,
        "policies": policies,
    }


def password_hash(user: str, password: str) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password)).

    The salt is derived from the user name so that the file is reproducible; these are
    development passwords, public by design."""
    salt = hashlib.sha256(f"particulier-dev-salt:{user}".encode()).digest()[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def dev_users() -> dict[str, Any]:
    """Logins of the compose stack; each password equals the user name."""
    agency = agency_permissions(DEMO_USER)
    users = [
        # operators: management UI, `topology apply`, dead-letter replay (impersonator: a
        # replayed request keeps the original requester's validated user_id)
        (ADMIN_USER, ["administrator", "impersonator"], ".*", ".*", ".*"),
        # workers: declare the topology, consume the lanes, reply through the default
        # exchange, dead-letter to particulier.dead
        (
            WORKER_USER,
            [],
            r"^particulier\..*",
            r"^(particulier\..*|amq\.default)$",
            r"^particulier\..*",
        ),
        # the demo agency: publish requests, own its reply queues reply.<login>.<anything>,
        # exactly as `particulier agencies create` provisions an agency
        (DEMO_USER, [], agency.configure, agency.write, agency.read),
    ]
    return {
        "vhosts": [{"name": VHOST}],
        "users": [
            {
                "name": name,
                "password_hash": password_hash(name, name),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": tags,
            }
            for name, tags, *_ in users
        ],
        "permissions": [
            {"user": name, "vhost": VHOST, "configure": conf, "write": write, "read": read}
            for name, _tags, conf, write, read in users
        ],
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def expected() -> dict[Path, str]:
    return {DEFINITIONS: render(definitions()), DEV_USERS: render(dev_users())}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drifted = []
    for path, text in expected().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            drifted.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    for path in drifted:
        print(
            f"{path.relative_to(ROOT)} drifted: run python deploy/rabbitmq/generate.py",
            file=sys.stderr,
        )
    return 1 if drifted else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
