"""RabbitMQ side of an agency: its user and the permissions that confine it.

Done with ``rabbitmqctl`` (run on a RabbitMQ node, as a user allowed to talk to it), which
needs no management plugin. An agency may publish to ``particulier.requests`` and configure,
read and write only the queues named ``reply.<user>.*``; RabbitMQ checks the ``user_id`` of
what it publishes against its login, so it cannot publish as another agency.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..sdk.contract import EXCHANGE, reply_queue
from .admin import validate_user

__all__ = [
    "AgencyPermissions",
    "ProvisioningError",
    "RabbitMQ",
    "agency_permissions",
    "reply_prefix",
    "vhost_of",
]


class ProvisioningError(RuntimeError):
    """A ``rabbitmqctl`` command failed."""


def reply_prefix(user: str) -> str:
    """The prefix of the reply queues an agency may use: ``reply.<user>.``."""
    return reply_queue(validate_user(user), "")


def vhost_of(amqp_url: str) -> str:
    """The virtual host of an AMQP URL (``/`` when the path is empty)."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


@dataclass(frozen=True)
class AgencyPermissions:
    """The three regular expressions of ``rabbitmqctl set_permissions``."""

    configure: str
    write: str
    read: str


def agency_permissions(user: str) -> AgencyPermissions:
    queues = "^" + reply_prefix(user).replace(".", r"\.")
    exchange = "^" + EXCHANGE.replace(".", r"\.") + "$"
    return AgencyPermissions(configure=queues, write=f"{exchange}|{queues}", read=queues)


class RabbitMQ:
    """The few ``rabbitmqctl`` commands provisioning needs, on one virtual host."""

    def __init__(
        self,
        vhost: str = "/",
        *,
        rabbitmqctl: str = "rabbitmqctl",
        node: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.vhost = vhost
        self._command = [rabbitmqctl, *(["--node", node] if node else [])]
        self._timeout = timeout

    def _run(self, args: Sequence[str], stdin: str | None = None) -> str:
        try:
            done = subprocess.run(
                [*self._command, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProvisioningError(f"rabbitmqctl {args[0]}: {type(exc).__name__}") from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {done.returncode}"
            raise ProvisioningError(f"rabbitmqctl {args[0]}: {reason}")
        return done.stdout

    def users(self) -> set[str]:
        out = self._run(["--quiet", "list_users", "--formatter", "json"])
        return {entry["user"] for entry in json.loads(out or "[]")}

    def ensure_user(self, user: str, password: str | None) -> bool:
        """Create the user (True), or set its password when one is given (False).

        The password goes through standard input, never the command line.
        """
        validate_user(user)
        if user in self.users():
            if password is not None:
                self._run(["change_password", user], stdin=password + "\n")
            return False
        if password is None:
            raise ProvisioningError("a new RabbitMQ user needs a password")
        self._run(["add_user", user], stdin=password + "\n")
        return True

    def grant_agency(self, user: str) -> AgencyPermissions:
        permissions = agency_permissions(user)
        self._run(
            [
                "set_permissions",
                "-p",
                self.vhost,
                user,
                permissions.configure,
                permissions.write,
                permissions.read,
            ]
        )
        return permissions

    def delete_user(self, user: str) -> None:
        self._run(["delete_user", user])

    def add_vhost(self) -> None:
        self._run(["add_vhost", self.vhost])

    def delete_vhost(self) -> None:
        self._run(["delete_vhost", self.vhost])

    def set_permissions(self, user: str, configure: str, write: str, read: str) -> None:
        self._run(["set_permissions", "-p", self.vhost, user, configure, write, read])
