"""What the fault tests share: a vhost of a test's own, so that the session's in-process
worker does not take its traffic."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from ..conftest import Services


@pytest.fixture
def vhost_url(services: Services) -> Iterator[str]:
    vhost = f"particulier-faults-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    yield services.amqp_url.rsplit("/", 1)[0] + "/" + vhost
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)
