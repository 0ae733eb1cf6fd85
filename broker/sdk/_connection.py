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

__all__ = ["Blocking", "Publisher", "Unconfirmed", "close_in_time", "connect", "node_urls"]

log = logging.getLogger("particulier.amqp")

RECONNECT_INTERVAL = 1.0
"""Seconds between connection attempts (each to the next node)."""
CONNECT_TIMEOUT = 10.0
REFUSED_CHANNEL_GRACE = 5.0
"""Seconds a replaced channel stays open, for the confirms still due on it."""
PUBLISH_TIMEOUT = 15.0
"""Seconds a publish may take, its channel's opening included, while RabbitMQ does not block
publishing; past them it raises :class:`Unconfirmed`."""
CLOSE_TIMEOUT = 5.0
"""Seconds the closing of a channel, a connection or a reply queue may take."""


class Unconfirmed(aio_pika.exceptions.AMQPError):
    """RabbitMQ neither confirmed nor refused a publish in time; it may have taken it."""


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
        self._while_blocked: list[Callable[[], None]] = []
        self._task = asyncio.create_task(self._watch())

    def while_blocked(self, call: Callable[[], None]) -> None:
        """Have ``call()`` called at each look (every :attr:`POLL_SECONDS`) that finds the
        connection blocked."""
        self._while_blocked.append(call)

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
            if blocked:
                for call in self._while_blocked:
                    call()
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
    refuses (nacks) a publish or leaves it unconfirmed.

    RabbitMQ 3.10 keeps nacking every publish to a quorum queue on a channel opened while that
    queue was electing a new leader, its node lost, which is when a robust connection reopens
    its channels; a channel opened afterwards publishes at once (``docs/operations.md``, "On a
    RabbitMQ cluster"). So a refused publish raises as before, for its caller to publish again
    (or dead-letter), and the next publish goes on a new channel. A returned message (no queue
    took it) is the caller's to judge and keeps the channel.

    No publish waits for good: opening a channel on a connection that died meanwhile, or a
    confirm that never comes (a node gone silent), ends in :class:`Unconfirmed` after
    :data:`PUBLISH_TIMEOUT`. While ``blocking`` finds RabbitMQ blocking publishing, a wait it
    announces and ends, the publishes in flight keep their whole timeout ahead of them.
    """

    def __init__(
        self,
        connection: AbstractRobustConnection,
        blocking: Blocking | None = None,
        *,
        timeout: float = PUBLISH_TIMEOUT,
    ) -> None:
        self._connection = connection
        self._timeout = timeout
        self._channel: AbstractChannel | None = None
        self._opening = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()
        self._bounds: set[asyncio.Timeout] = set()
        """The timeouts of the publishes in flight."""
        if blocking is not None:
            blocking.while_blocked(self._extend)
        self.replaced = 0
        """Channels replaced after a refusal or a publish left unconfirmed."""

    async def publish(
        self, message: aio_pika.Message, *, routing_key: str, exchange: str = ""
    ) -> None:
        channel = self._channel
        try:
            async with asyncio.timeout(self._timeout) as bound:
                self._bounds.add(bound)
                try:
                    channel = channel or await self._open()
                    await self._send(channel, message, routing_key, exchange)
                finally:
                    self._bounds.discard(bound)
        except TimeoutError:
            if channel is not None:
                self._replace(channel, "left a publish unconfirmed")
            raise Unconfirmed(f"no confirm within {self._timeout:.0f} s") from None

    def _extend(self) -> None:
        """RabbitMQ blocks publishing now: what is in flight waits without using its time."""
        later = asyncio.get_running_loop().time() + self._timeout
        for bound in self._bounds:
            if (when := bound.when()) is not None and when < later:
                bound.reschedule(later)

    async def _send(
        self, channel: AbstractChannel, message: aio_pika.Message, routing_key: str, exchange: str
    ) -> None:
        target = channel.default_exchange
        if exchange:
            target = await channel.get_exchange(exchange, ensure=False)  # no I/O
        try:
            await target.publish(message, routing_key=routing_key, mandatory=True)
        except aio_pika.exceptions.DeliveryError as refused:
            if not isinstance(refused, aio_pika.exceptions.PublishError):
                self._replace(channel, "refused a publish")
            raise

    async def _open(self) -> AbstractChannel:
        async with self._opening:
            if self._channel is None:
                self._channel = await self._connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )
            return self._channel

    def _replace(self, channel: AbstractChannel, why: str) -> None:
        if self._channel is not channel:
            return  # replaced already
        self._channel = None
        self.replaced += 1
        log.warning("RabbitMQ %s: publishing on a new channel", why)
        task = asyncio.get_running_loop().create_task(self._close_later(channel))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_later(channel: AbstractChannel) -> None:
        await asyncio.sleep(REFUSED_CHANNEL_GRACE)
        await close_in_time(channel)

    async def close(self) -> None:
        for task in self._closing:
            task.cancel()
        if self._channel is not None:
            await close_in_time(self._channel)
            self._channel = None


async def close_in_time(resource: AbstractChannel | AbstractRobustConnection) -> None:
    """Close a channel or a connection, giving up after :data:`CLOSE_TIMEOUT` (a dead
    connection never answers)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await resource.close()
