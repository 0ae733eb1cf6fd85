"""Fixtures of the broker-path tests: agencies made as an operator makes them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest
from stdnum import luhn

from ..conftest import Services


def new_siret() -> str:
    """A random valid SIRET: both the SIREN and the whole number pass the Luhn check."""
    siren = f"{uuid.uuid4().int % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{uuid.uuid4().int % 10**4:04d}"
    return base + luhn.calc_check_digit(base)


@dataclass
class Agency:
    name: str
    user: str
    url: str


@pytest.fixture
def agency(services: Services) -> Agency:
    """A fresh agency with its own RabbitMQ user, confined to its reply queues."""
    user = f"agency_{uuid.uuid4().hex[:8]}"
    name = f"Mairie {user}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "broker.tooling.cli",
            "agencies",
            "create",
            name,
            "--siret",
            new_siret(),
            "--user",
            user,
            "--password",
            "secret",
            "--vhost",
            services.vhost,
        ],
        check=True,
        capture_output=True,
    )
    host = services.amqp_url.split("@", 1)[1]
    return Agency(name, user, f"amqp://{user}:secret@{host}")
