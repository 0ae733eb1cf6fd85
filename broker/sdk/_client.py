"""The client SDK for agency back-offices.

>>> async with Client(url, jwks=jwks) as client:
...     reply = await client.request("cnav.quotient_familial", params, recipient=SIRET)
...     reply.raise_for_status()

One long-lived connection, one exclusive reply queue, and a map of futures keyed by
``correlation_id``: thousands of calls can be in flight without a lock between them. Every
reply's proof of origin is checked before it is handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from yarl import URL

from ._batch import BatchSession
from ._canonical import request_hash
from ._connection import (
    CLOSE_TIMEOUT,
    Blocking,
    Publisher,
    close_in_time,
    connect,
    node_urls,
)
from ._reasons import CertificationError
from ._reply import ParticulierError, ProofError, Reply, ReplyTimeout
from ._rows import BatchRow
from ._verify import Verifier
from .contract import (
    EXCHANGE,
    RIGHTS,
    Lane,
    ReplyBody,
    RequestProperties,
    ping_dataset,
    reply_queue,
    routing_key,
)

__all__ = [
    "DEFAULT_URL",
    "Client",
    "load_jwks",
]


REPLY_QUEUE_EXPIRES_MS = 10 * 60 * 1000
log = logging.getLogger("particulier.sdk")

ASK_AGAIN_AFTER = 10.0
"""Seconds after the client's connection came back (its node lost) before it asks again the
requests unanswered for that long: longer than a worker goes on publishing a reply
RabbitMQ will not route (about 8 s, while a replicated reply queue changes leader), after which
the reply is dead-lettered. Asked again with the same ``message_id``, a request already
answered is answered from the journal with the same reply; the reply that does arrive first
wins, a second one is ignored."""
ASK_AGAIN_ROUNDS = 6
"""Rounds of asking again after a reconnection (a minute): a request whose reply was lost in
the failover is asked until answered or out of time, never more than once a round."""
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


def load_jwks(source: str | None = None) -> dict[str, Any]:
    """The keys that sign replies, from a file or an ``http(s)`` URL (default: the
    ``PARTICULIER_JWKS`` environment variable); the broker's operator publishes them."""
    source = source or os.environ.get("PARTICULIER_JWKS")
    if not source:
        raise ParticulierError(
            "no JWKS to verify replies with: pass jwks=, or set PARTICULIER_JWKS to the file or "
            "URL the broker's operator publishes (or verify=False)"
        )
    if source.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(source, timeout=10)
        response.raise_for_status()
        return dict(response.json())
    return dict(json.loads(Path(source).read_text(encoding="utf-8")))


@dataclass
class _Pending:
    future: asyncio.Future[Reply]
    request_hash: str
    message_id: str
    publish: dict[str, Any]
    """How the request was published: what asking it again publishes."""
    sent_at: float = float("inf")


class Client:
    """A back-office's connection to the broker: ``url`` is a node's AMQP URL, or a cluster's
    nodes' (a sequence, or one string separated by commas, as ``PARTICULIER_AMQP_URL``), the
    client moving to the next node when its node is lost."""

    def __init__(
        self,
        url: str | Sequence[str] | None = None,
        *,
        lane: Lane = Lane.INTERACTIVE,
        verify: bool = True,
        jwks: Mapping[str, Any] | None = None,
        replicated: bool | None = None,
    ) -> None:
        self.urls = node_urls(url or os.environ.get("PARTICULIER_AMQP_URL") or DEFAULT_URL)
        """The nodes' URLs: a cluster's client moves to the next when its node is lost."""
        self.requester = URL(self.urls[0]).user or "guest"
        self.replicated = len(self.urls) > 1 if replicated is None else replicated
        """Reply queues are quorum queues, replicated on the cluster's nodes, so that a node
        lost loses no reply (by default when several nodes' URLs are given)."""
        self.lane = lane
        self._verifier: Verifier | None = None
        self._jwks_source = None if jwks is not None else os.environ.get("PARTICULIER_JWKS")
        if verify:
            self._verifier = Verifier(jwks if jwks is not None else load_jwks())
        self._jwks_fetched = time.monotonic()
        self._pending: dict[str, _Pending] = {}
        self._connection: AbstractRobustConnection | None = None
        self._blocking: Blocking | None = None
        self._channel: AbstractChannel | None = None
        self._publisher: Publisher | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag = ""
        self._asking_again: set[asyncio.Task[None]] = set()
        self.ignored = 0
        """Replies that matched no pending call (late, duplicate or foreign)."""
        self.asked_again = 0
        """Requests published again after the connection came back."""

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """Connected to RabbitMQ now (a robust connection comes back by itself)."""
        connection = self._connection
        return connection is not None and connection.connected.is_set()

    @property
    def blocked(self) -> bool:
        """RabbitMQ blocks this client's publishing now (a resource alarm): requests wait for
        it to clear; logged when it starts and ends."""
        return self._blocking is not None and self._blocking.blocked

    @property
    def reply_queue(self) -> str:
        assert self._queue is not None, "not connected"
        return self._queue.name

    async def channel(self) -> AbstractChannel:
        """A new channel on the client's connection (a batch session consumes on its own)."""
        if self._connection is None:
            raise RuntimeError("the client is not connected")
        return await self._connection.channel()

    async def connect(self) -> None:
        self._connection = await connect(self.urls, name="particulier-client")
        self._connection.reconnect_callbacks.add(self._on_reconnect)
        self._blocking = Blocking(self._connection, "particulier client")
        # a returned or refused request raises, and is published again
        self._publisher = Publisher(self._connection, self._blocking)
        self._channel = await self._connection.channel()
        # Durable, so that replies published while the broker restarts are kept; RabbitMQ
        # deletes it once unused for REPLY_QUEUE_EXPIRES_MS.
        self._queue = await self._channel.declare_queue(
            reply_queue(self.requester, uuid.uuid4().hex),
            durable=True,
            arguments=self.queue_arguments(REPLY_QUEUE_EXPIRES_MS),
        )
        self._consumer_tag = await self._queue.consume(self._on_reply)

    def queue_arguments(self, expires_ms: int) -> dict[str, Any]:
        """A reply queue's: deleted once unused for ``expires_ms``, replicated if
        :attr:`replicated`."""
        replicated = {"x-queue-type": "quorum"} if self.replicated else {}
        return {"x-expires": expires_ms, **replicated}

    def _on_reconnect(self, *_: object) -> None:
        log.info("connection back: %d requests pending may be asked again", len(self._pending))
        task = asyncio.get_running_loop().create_task(self._ask_again())
        self._asking_again.add(task)
        task.add_done_callback(self._asking_again.discard)

    async def _ask_again(self) -> None:
        """Every :data:`ASK_AGAIN_AFTER` seconds for :data:`ASK_AGAIN_ROUNDS` rounds after a
        reconnection, publish again the requests unanswered for that long (see there)."""
        for _ in range(ASK_AGAIN_ROUNDS):
            await asyncio.sleep(ASK_AGAIN_AFTER)
            waited = time.monotonic() - ASK_AGAIN_AFTER
            asked = 0
            for pending in list(self._pending.values()):
                if pending.future.done() or pending.sent_at > waited:
                    continue
                try:
                    await self.publish(**pending.publish)
                except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                    log.warning("asking again paused (%s) until the next round", type(exc).__name__)
                    break
                pending.sent_at = time.monotonic()
                self.asked_again += 1
                asked += 1
            if asked:
                log.info("asked again %d requests unanswered since the reconnection", asked)

    async def close(self) -> None:
        for task in self._asking_again:
            task.cancel()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()
        self._pending.clear()
        if (
            self._queue is not None
            and self._connection is not None
            and not self._connection.is_closed
        ):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._queue.cancel(self._consumer_tag)
                    await self._queue.delete(if_unused=False, if_empty=False)
        if self._blocking is not None:
            await self._blocking.close()
            self._blocking = None
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None
        if self._connection is not None:
            await close_in_time(self._connection)
            self._connection = None

    async def request(
        self,
        dataset: str,
        params: Mapping[str, Any],
        *,
        recipient: str,
        version: int | None = None,
        timeout: float = 30.0,
        lane: Lane | None = None,
        retry_rate_limited: bool = False,
        france_connect_token: str | None = None,
        no_cache: bool = False,
        on_behalf_of: str | None = None,
        agent: str | None = None,
    ) -> Reply:
        """Ask for ``dataset`` about the person ``params`` designates (or, in FranceConnect
        mode, the citizen whose ``france_connect_token`` it is); wait for the reply.

        With ``retry_rate_limited``, a 429 reply is retried after its ``retry_in`` while the
        timeout allows; with ``no_cache``, the provider is asked even if the reply cache holds
        an answer. An editor names the agency it acts for in ``on_behalf_of``; ``agent`` is
        the agent at the counter (kept only as a keyed hash).
        """
        ends = time.monotonic() + timeout
        while True:
            reply = await self._call(
                dataset,
                params,
                recipient,
                version,
                ends - time.monotonic(),
                lane or self.lane,
                france_connect_token,
                no_cache,
                on_behalf_of,
                agent,
            )
            wait = reply.retry_in if reply.status == 429 else None
            if not retry_rate_limited or wait is None or time.monotonic() + wait >= ends:
                return reply
            await asyncio.sleep(wait)

    async def ping(self, provider: str, *, timeout: float = 10.0) -> Reply:
        """The provider's health as its workers see it (``data.status``: ok, bad_gateway or
        unknown; ``last_update``, ``last_ok_status``, ``breaker``, ``maintenance``)."""
        return await self._call(ping_dataset(provider), {}, None, None, timeout, Lane.INTERACTIVE)

    async def rights(self, *, on_behalf_of: str | None = None, timeout: float = 10.0) -> Reply:
        """What this login may ask now (``data.agencies``: each agency's habilitations in force
        with their datasets, scopes, modes, lanes, rate limits and validity); an editor's: for
        each agency that delegated to it, or only ``on_behalf_of``."""
        return await self._call(
            RIGHTS, {}, None, None, timeout, Lane.INTERACTIVE, on_behalf_of=on_behalf_of
        )

    async def _call(
        self,
        dataset: str,
        params: Mapping[str, Any],
        recipient: str | None,
        version: int | None,
        timeout: float,
        lane: Lane,
        france_connect_token: str | None = None,
        no_cache: bool = False,
        on_behalf_of: str | None = None,
        agent: str | None = None,
    ) -> Reply:
        if timeout <= 0:
            raise ReplyTimeout("no time left")
        ends = time.monotonic() + timeout
        correlation_id = uuid.uuid4().hex
        message_id = uuid.uuid4().hex
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        publish: dict[str, Any] = {
            "dataset": dataset,
            "params": params,
            "recipient": recipient,
            "version": version,
            "lane": lane,
            "correlation_id": correlation_id,
            "message_id": message_id,
            "deadline": time.time() + timeout,
            "france_connect_token": france_connect_token,
            "no_cache": no_cache,
            "on_behalf_of": on_behalf_of,
            "agent": agent,
        }
        self._pending[correlation_id] = _Pending(
            future,
            request_hash(
                dataset=dataset,
                version=version,
                params=params,
                recipient=recipient,
                message_id=message_id,
                requester=self.requester,
                france_connect_token=france_connect_token,
                on_behalf_of=on_behalf_of,
                agent=agent,
            ),
            message_id,
            publish,
        )
        try:
            await self._publish_until(publish, ends)
            self._pending[correlation_id].sent_at = time.monotonic()
            return await asyncio.wait_for(future, max(0.0, ends - time.monotonic()))
        except TimeoutError:
            raise ReplyTimeout(f"no reply within {timeout:.1f}s") from None
        finally:
            self._pending.pop(correlation_id, None)

    async def _publish_until(self, publish: dict[str, Any], ends: float) -> None:
        """Publish, waiting out a broker restart (the robust connection comes back by itself).

        A publish whose confirm was lost may have reached the broker: the request can then be
        answered twice, and the second reply is ignored. No attempt outlasts the request's
        time (``ends``): past it, :class:`TimeoutError`."""
        delay = 0.2
        while True:
            try:
                async with asyncio.timeout(max(0.0, ends - time.monotonic())):
                    await self.publish(**publish)
                return
            except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError):
                if time.monotonic() + delay >= ends:
                    raise ReplyTimeout("broker unreachable") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def publish(
        self,
        dataset: str,
        params: Mapping[str, Any],
        *,
        recipient: str | None,
        correlation_id: str,
        message_id: str,
        reply_to: str | None = None,
        version: int | None = None,
        lane: Lane | None = None,
        deadline: float | None = None,
        france_connect_token: str | None = None,
        no_cache: bool = False,
        on_behalf_of: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Publish one request (confirmed) without waiting for its reply."""
        assert self._publisher is not None, "not connected"
        body: dict[str, Any] = {"dataset": dataset, "params": dict(params)}
        if recipient is not None:
            body["recipient"] = recipient
        if version is not None:
            body["version"] = version
        if france_connect_token is not None:
            body["france_connect_token"] = france_connect_token
        if on_behalf_of is not None:
            body["on_behalf_of"] = on_behalf_of
        if agent is not None:
            body["agent"] = agent
        properties = RequestProperties(
            message_id=message_id,
            correlation_id=correlation_id,
            reply_to=reply_to or self.reply_queue,
            user_id=self.requester,
            content_type="application/json",
            type=dataset,
            deadline=None if deadline is None else int(deadline * 1000),
            cache_control="no-cache" if no_cache else None,
        )
        await self._publisher.publish(
            aio_pika.Message(
                json.dumps(body, ensure_ascii=False).encode(),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                **properties.message_fields(),
            ),
            exchange=EXCHANGE,
            routing_key=routing_key(lane or self.lane, dataset),
        )

    def batch(
        self,
        dataset: str,
        rows: Iterable[BatchRow | Mapping[str, Any]] | AsyncIterable[BatchRow | Mapping[str, Any]],
        *,
        recipient: str,
        **options: Any,
    ) -> BatchSession:
        """Ask for ``dataset`` about every row through the bulk lane; an async iterator of
        results as they arrive (``options``: those of :class:`BatchSession`)."""
        return BatchSession(self, dataset, rows, recipient=recipient, **options)

    def verify(self, raw: bytes, expected_hash: str | None) -> ReplyBody:
        """Parse and check a reply; raises :class:`ProofError` when the proof fails."""
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise ProofError("malformed") from None
        if self._verifier is not None:
            try:
                self._verifier.verify(decoded, request_hash=expected_hash)
            except CertificationError as exc:
                if exc.reason != "unknown-kid" or not self._refresh_jwks():
                    raise ProofError(exc.reason) from None
                try:
                    self._verifier.verify(decoded, request_hash=expected_hash)
                except CertificationError as again:
                    raise ProofError(again.reason) from None
        return ReplyBody.model_validate(decoded)

    def _refresh_jwks(self) -> bool:
        """After a key rotation: fetch the JWKS again, at most once a minute."""
        now = time.monotonic()
        if self._jwks_source is None or now - self._jwks_fetched < 60:
            return False
        self._jwks_fetched = now
        try:
            self._verifier = Verifier(load_jwks(self._jwks_source))
        except (OSError, ValueError):
            return False
        return True

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        await message.ack()
        pending = self._pending.get(message.correlation_id or "")
        if pending is None or pending.future.done():
            self.ignored += 1
            return
        try:
            body = self.verify(message.body, pending.request_hash)
        except ProofError as exc:
            pending.future.set_exception(exc)
            return
        pending.future.set_result(
            Reply(body, message.body, message.correlation_id or "", pending.message_id)
        )
