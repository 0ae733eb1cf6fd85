"""Connections to a RabbitMQ cluster: several nodes' URLs, failover between them, and a word
when RabbitMQ blocks publishing.

aio-pika reconnects to the one URL it was given (mosquito/aio-pika#141); a cluster's client
must move to another node when its node is lost, so each connection attempt here goes to the
next node's URL. A resource alarm (memory or disk) makes RabbitMQ block every publishing
connection of the cluster until it clears: publishes then wait, and a process that waits
silently looks hung, so :class:`Blocking` watches for it and says so. A channel RabbitMQ
keeps refusing after a failover is replaced by :class:`Publisher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aio_pika.robust_connection import RobustConnection
from yarl import URL

__all__ = ["Blocking", "Publisher", "connect", "node_urls"]

log = logging.getLogger("particulier.amqp")

RECONNECT_INTERVAL = 1.0
"""Seconds between connection attempts (each to the next node)."""
CONNECT_TIMEOUT = 10.0
REFUSED_CHANNEL_GRACE = 5.0
"""Seconds a replaced channel stays open, for the confirms still due on it."""


def node_urls(urls: str | Sequence[str]) -> list[str]:
    """The URLs of a cluster's nodes: a sequence, or one string listing them separated by
    commas (``PARTICULIER_AMQP_URL``). All name the same user and vhost."""
    listed = urls.split(",") if isinstance(urls, str) else list(urls)
    found = [url.strip() for url in listed if url.strip()]
    if not found:
        raise ValueError("no AMQP URL")
    if len({(URL(u).user, URL(u).path) for u in found}) > 1:
        raise ValueError("the nodes' URLs name different users or vhosts")
    return found


class _FailoverConnection(RobustConnection):
    """A robust connection whose every attempt goes to the next node.

    aio-pika reads ``url`` once per connection attempt (``Connection.connect``); reading it
    here moves to the next node, so that a reconnection after a node is lost, and each retry
    while nodes are down, tries another one.
    """

    def __init__(self, urls: Sequence[str], **kwargs: Any) -> None:
        self._nodes = [URL(u) for u in urls]
        self._attempts = 0
        super().__init__(self._nodes[0], **kwargs)
        self._attempts = 0

    @property
    def url(self) -> URL:
        node = self._nodes[self._attempts % len(self._nodes)]
        self._attempts += 1
        return node

    @url.setter
    def url(self, _: URL) -> None:
        """Set by aio-pika's constructor; the nodes' URLs are kept instead."""

    @property
    def node(self) -> URL:
        """The node of the current (or last) attempt."""
        return self._nodes[(self._attempts - 1) % len(self._nodes)]

    def __str__(self) -> str:
        node = self.node
        return str(node.with_password("******") if node.password else node)


async def connect(
    urls: str | Sequence[str], *, name: str, timeout: float = CONNECT_TIMEOUT
) -> AbstractRobustConnection:
    """A robust connection to the first node that answers, moving to the next one whenever
    its node is lost. Raises the last node's error when none answers."""
    nodes = node_urls(urls)
    error: BaseException | None = None
    for first in range(len(nodes)):
        connection = _FailoverConnection(
            nodes[first:] + nodes[:first],
            client_properties={"connection_name": name},
            reconnect_interval=RECONNECT_INTERVAL,
        )
        try:
            await connection.connect(timeout=timeout)
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            error = exc
            with contextlib.suppress(Exception):
                await connection.close()
            continue
        return connection
    assert error is not None
    raise error


class Blocking:
    """Whether RabbitMQ blocks a connection's publishing (a resource alarm), watched through
    aiormq's public ``ready()``: a connection that is up but not ready is blocked.

    ``on_change(blocked)`` is called at each change; the worker and the gateway set a gauge
    with it, and the SDK's :attr:`~broker.sdk.Client.blocked` reads :attr:`blocked`.
    """

    POLL_SECONDS = 0.5

    def __init__(
        self,
        connection: AbstractRobustConnection,
        what: str,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._connection = connection
        self._what = what
        self._on_change = on_change
        self.blocked = False
        self._since = 0.0
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            transport = self._connection.transport
            underlay = transport.connection if transport is not None else None
            blocked = False
            if underlay is not None and underlay.is_opened:
                try:
                    await asyncio.wait_for(underlay.ready(), self.POLL_SECONDS)
                except TimeoutError:
                    blocked = underlay.is_opened
            if blocked != self.blocked:
                self._change(blocked)
            await asyncio.sleep(self.POLL_SECONDS)

    def _change(self, blocked: bool) -> None:
        self.blocked = blocked
        if blocked:
            self._since = time.monotonic()
            log.warning(
                "%s: RabbitMQ blocks publishing (a resource alarm): publishes wait", self._what
            )
        else:
            log.warning(
                "%s: RabbitMQ publishing unblocked after %.1f s",
                self._what,
                time.monotonic() - self._since,
            )
        if self._on_change is not None:
            self._on_change(blocked)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Publisher:
    """Confirmed, mandatory publishes on a channel of their own, replaced when RabbitMQ
    refuses (nacks) a publish.

    RabbitMQ 3.10 keeps nacking every publish to a quorum queue on a channel opened while that
    queue was electing a new leader, its node lost, which is when a robust connection reopens
    its channels; a channel opened afterwards publishes at once (``docs/operations.md``, "On a
    RabbitMQ cluster"). So a refused publish raises as before, for its caller to publish again
    (or dead-letter), and the next publish goes on a new channel. A returned message (no queue
    took it) is the caller's to judge and keeps the channel.
    """

    def __init__(self, connection: AbstractRobustConnection) -> None:
        self._connection = connection
        self._channel: AbstractChannel | None = None
        self._opening = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()
        self.replaced = 0
        """Channels replaced after a refusal."""

    async def publish(
        self, message: aio_pika.Message, *, routing_key: str, exchange: str = ""
    ) -> None:
        channel = self._channel or await self._open()
        target = channel.default_exchange
        if exchange:
            target = await channel.get_exchange(exchange, ensure=False)  # no I/O
        try:
            await target.publish(message, routing_key=routing_key, mandatory=True)
        except aio_pika.exceptions.DeliveryError as refused:
            if not isinstance(refused, aio_pika.exceptions.PublishError):
                self._replace(channel)
            raise

    async def _open(self) -> AbstractChannel:
        async with self._opening:
            if self._channel is None:
                self._channel = await self._connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )
            return self._channel

    def _replace(self, refused: AbstractChannel) -> None:
        if self._channel is not refused:
            return  # replaced already, by another refusal
        self._channel = None
        self.replaced += 1
        log.warning("RabbitMQ refused a publish: publishing on a new channel")
        task = asyncio.get_running_loop().create_task(self._close_later(refused))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_later(channel: AbstractChannel) -> None:
        await asyncio.sleep(REFUSED_CHANNEL_GRACE)
        with contextlib.suppress(Exception):
            await channel.close()

    async def close(self) -> None:
        for task in self._closing:
            task.cancel()
        if self._channel is not None:
            with contextlib.suppress(Exception):
                await self._channel.close()
            self._channel = None
