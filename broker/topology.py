"""The RabbitMQ topology, declared idempotently by ``particulier topology apply`` and by every
worker at start."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from .sdk.contract import BROKER_QUEUES, DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE, Lane

__all__ = ["DELIVERY_LIMIT", "QueueSpec", "apply", "queue_name", "queues_for", "served"]

DELIVERY_LIMIT = 5
"""Deliveries of one request before RabbitMQ dead-letters it (a poison message)."""


def queue_name(provider: str, lane: Lane | str) -> str:
    return f"particulier.{provider}.{Lane(lane).value}"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    binding: str
    arguments: dict[str, Any]


def queues_for(provider: str) -> list[QueueSpec]:
    """The two lanes' quorum queues of a provider, with their dead-lettering."""
    return [
        QueueSpec(
            name=queue_name(provider, lane),
            binding=f"{lane.value}.{provider}.#",
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": DEAD_EXCHANGE,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        for lane in Lane
    ]


def served(providers: Iterable[str]) -> list[str]:
    """The names whose lane queues exist: every provider's, and the broker's own
    (:data:`~broker.sdk.contract.BROKER_QUEUES`: the rights look-up)."""
    return [*providers, BROKER_QUEUES]


async def apply(channel: AbstractChannel, providers: Iterable[str]) -> AbstractExchange:
    """Declare exchanges, the dead-letter queue, each provider's lane queues and the
    broker's own."""
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    dead = await channel.declare_exchange(DEAD_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True)
    dead_queue = await channel.declare_queue(
        DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead_queue.bind(dead)
    for provider in served(providers):
        for spec in queues_for(provider):
            queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
            await queue.bind(exchange, spec.binding)
    return exchange
