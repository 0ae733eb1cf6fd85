"""Inspect, replay or drop the messages held in the dead-letter queue ``particulier.dead``.

    python deploy/rabbitmq/dead_letters.py list                 # what is there, and why
    python deploy/rabbitmq/dead_letters.py replay --yes         # republish the replayable ones
    python deploy/rabbitmq/dead_letters.py drop --reason no-reply-to --yes

Connects with ``--url`` or ``$PARTICULIER_AMQP_URL``. Replaying republishes a request to
``particulier.requests`` with its original routing key and properties, ``user_id`` included: the
login must carry RabbitMQ's ``impersonator`` tag (``particulier_admin`` in the compose stack),
since RabbitMQ otherwise refuses a ``user_id`` that is not the publisher's own login.

Two kinds of dead letters (docs/operations.md, "Dead letters"):

- dead-lettered by RabbitMQ (header ``x-death``, reason ``delivery_limit``): a request delivered
  ``DELIVERY_LIMIT`` times without being acknowledged, i.e. a worker crashed or failed on it
  each time. Replay once the cause is fixed.
- dead-lettered by a worker (header ``x-dead-reason``, one of ``broker.sdk.contract.DeadReason``:
  see docs/operations.md, "Dead letters"). These carry no ``user_id``, so a replay would be
  dead-lettered ``reply-to-refused``: tell the agency, then drop them.

Nothing here prints a message body: bodies hold personal data. Messages not acted upon go back
to the queue when the command ends (they are read without acknowledgement).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from broker.sdk.contract import (  # noqa: E402
    DEAD_QUEUE,
    DEADLINE_HEADER,
    EXCHANGE,
    REASON_HEADER,
    REQUESTER_HEADER,
)

ORIGINAL_KEY_HEADER = "x-original-routing-key"
REPLAYED_HEADER = "x-replayed-from-dead"
"""Set on a replayed request: why it had been dead-lettered (an operator can spot replays)."""

RABBITMQ_REASONS = frozenset({"delivery_limit", "rejected", "expired"})
"""``x-death`` reasons; ``delivery_limit`` is the one this topology produces."""

_DROPPED_HEADERS = {
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
    REASON_HEADER,
    REQUESTER_HEADER,
    ORIGINAL_KEY_HEADER,
}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class DeadLetter:
    """What can be said about one dead letter without reading its body."""

    message_id: str
    dataset: str
    requester: str
    reason: str
    routing_key: str
    deaths: int

    @property
    def replayable(self) -> bool:
        """A request RabbitMQ itself dead-lettered, whose requester is known."""
        return bool(
            self.requester
            and self.routing_key
            and self.reason in RABBITMQ_REASONS | {"journal-refused"}
        )

    @classmethod
    def of(cls, message: AbstractIncomingMessage) -> DeadLetter:
        headers = message.headers or {}
        reason, key, deaths = "", "", 0
        x_death = headers.get("x-death")
        if isinstance(x_death, list) and x_death:
            first = x_death[0]  # the most recent death comes first
            reason = _text(first.get("reason", ""))
            keys = first.get("routing-keys") or []
            key = _text(keys[0]) if keys else ""
            deaths = sum(int(d.get("count", 1)) for d in x_death if isinstance(d, dict))
        if REASON_HEADER in headers:
            reason = _text(headers[REASON_HEADER])
            key = _text(headers.get(ORIGINAL_KEY_HEADER, "")) or key
            deaths = max(deaths, 1)
        return cls(
            message_id=message.message_id or "",
            dataset=message.type or "",
            requester=message.user_id or _text(headers.get(REQUESTER_HEADER, "")),
            reason=reason or "unknown",
            routing_key=key,
            deaths=deaths,
        )

    def line(self) -> str:
        return (
            f"{self.message_id or '-':36} {self.dataset or '-':40} {self.requester or '-':20} "
            f"{self.reason:18} {self.routing_key or '-':50} {self.deaths:>3} "
            f"{'replayable' if self.replayable else 'not replayable'}"
        )


HEADER = (
    f"{'message_id':36} {'dataset':40} {'requester':20} {'reason':18} "
    f"{'original routing key':50} {'n':>3} replay"
)


def _selected(letter: DeadLetter, args: argparse.Namespace) -> bool:
    if args.reason and letter.reason != args.reason:
        return False
    return not (args.message_id and letter.message_id not in args.message_id)


def _replay_message(
    message: AbstractIncomingMessage, letter: DeadLetter, extend: float | None
) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in _DROPPED_HEADERS}
    headers[REPLAYED_HEADER] = letter.reason
    if extend is not None:
        headers[DEADLINE_HEADER] = int((time.time() + extend) * 1000)
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        reply_to=message.reply_to,
        user_id=letter.requester or None,
        type=message.type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def run(args: argparse.Namespace, out: Any = sys.stdout) -> dict[str, int]:
    """Carry out ``args.command`` on up to ``args.limit`` dead letters; return counts."""
    if args.command == "drop" and not (args.reason or args.message_id):
        raise SystemExit("drop needs --reason or --message-id: it deletes for good")
    counts = {"seen": 0, "replayed": 0, "dropped": 0, "skipped": 0}
    connection = await aio_pika.connect(args.url)
    async with connection:
        channel: AbstractChannel = await connection.channel(publisher_confirms=True)
        queue = await channel.get_queue(DEAD_QUEUE, ensure=False)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        print(HEADER, file=out)
        for _ in range(args.limit):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            counts["seen"] += 1
            letter = DeadLetter.of(message)
            print(letter.line(), file=out)
            if args.command == "list" or not _selected(letter, args) or not args.yes:
                continue
            if args.command == "drop":
                await message.ack()
                counts["dropped"] += 1
            elif letter.replayable:
                await exchange.publish(
                    _replay_message(message, letter, args.extend_deadline),
                    routing_key=letter.routing_key,
                    mandatory=True,
                )  # confirmed: raises rather than lose the request
                await message.ack()
                counts["replayed"] += 1
            else:
                counts["skipped"] += 1
        # closing the channel returns every message not acknowledged above to the queue
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    if args.command != "list" and not args.yes:
        summary += " (dry run: add --yes to act)"
    print(summary, file=out)
    return counts


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["list", "replay", "drop"])
    p.add_argument(
        "--url",
        default=os.environ.get("PARTICULIER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    p.add_argument(
        "--limit", type=int, default=1000, help="dead letters to look at (from the head)"
    )
    p.add_argument("--reason", help="only those dead-lettered for this reason")
    p.add_argument("--message-id", action="append", help="only this message (repeatable)")
    p.add_argument(
        "--extend-deadline",
        type=float,
        metavar="SECONDS",
        help="replay: give each request a new deadline this far in the future "
        "(otherwise a request past its deadline is answered 504 00803, not served)",
    )
    p.add_argument("--yes", action="store_true", help="act (without it, replay and drop only show)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
