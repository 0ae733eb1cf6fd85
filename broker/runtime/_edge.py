"""The worker's AMQP edge: consume a provider's lanes, answer every request exactly once.

The path of one request (``docs/architecture.md``): the message is read once into a
:class:`Request`; the :class:`Pipeline` answers it (validate, authorise, fetch, mask); the
:class:`Sealer` signs the answer and makes its journal entry; here the entry is journaled,
the reply published with a confirm, then the request acked. Every failure on the way becomes
a coded reply or a dead letter; nothing stops the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .. import topology
from ..cache import CacheSettings, ReplyCache
from ..certification import Certifier, KeyRing
from ..config import Settings
from ..config import settings as default_settings
from ..france_connect import Introspector, connect, encryption_jwks
from ..habilitations import Habilitations
from ..journal import Journal, JournalError, JournalUnavailable
from ..kit import Provider, Upstream
from ..metrics import (
    AMQP_BLOCKED,
    BULK_HELD_BACK,
    BULK_LIMIT,
    DEAD_LETTERS,
    IN_FLIGHT,
    JOURNAL_WAITS,
    PROCESSING_SECONDS,
    REQUESTS,
    STEPS,
    Step,
)
from ..sdk import Blocking, Publisher, Unconfirmed, close_in_time
from ..sdk import connect as connect_amqp
from ..sdk.contract import (
    DEAD_EXCHANGE,
    REASON_HEADER,
    REQUESTER_HEADER,
    RIGHTS,
    DeadReason,
    Lane,
    own_reply_queue,
    ping_dataset,
)
from ..sdk.proof import request_hash
from ._health import Health
from ._lanes import LaneGate, Permit
from ._maintenance import Maintenance
from ._pipeline import Answer, Pipeline
from ._request import HashRequest, Request, read_request
from ._sealing import Sealed, Sealer

__all__ = ["Worker", "run", "serving", "until_signalled"]

log = logging.getLogger("particulier.worker")

HANDLING_GRACE = 2.0
"""Seconds past a request's deadline (or ``max_handling``) before the last resort ends it."""

WATCH_EVERY = 1.0
"""Seconds between two looks at the providers' health: how soon a bulk lane pauses when a
window opens or a breaker trips, and resumes after."""

TRIM_EVERY = 60.0
"""Seconds between two trims of the reply cache (expired rows, and past its bound)."""


class _BoundExceeded(Exception):
    """A request outlived its handling bound (see :meth:`Worker._handling_bound`)."""


REPLY_REFUSED_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Seconds between the publishes of a reply RabbitMQ refused: about 8 s in all, the time a
quorum queue takes to elect a new leader when a node is lost."""
QUEUE_CHECK_TIMEOUT = 5.0
"""Seconds to tell whether a returned reply's queue exists; past them, it is taken to."""


class Worker:
    """Serves the datasets of ``providers`` on both lanes.

    The composition root: the pipeline, the sealer and the request hash are built from the
    arguments unless given (tests and benchmark variants give their own)."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        habilitations: Habilitations,
        journal: Journal,
        certifier: Certifier,
        keyring: KeyRing,
        config: Settings | None = None,
        lanes: Sequence[Lane] = tuple(Lane),
        pipeline: Pipeline | None = None,
        sealer: Sealer | None = None,
        hash_request: HashRequest = request_hash,
        introspector: Introspector | None = None,
        cache: ReplyCache | None = None,
        health: Health | None = None,
        maintenance: Maintenance | None = None,
    ) -> None:
        self.providers = {p.name: p for p in providers}
        self.lanes = tuple(lanes)
        self._served = frozenset(d.id for p in providers for d in p.datasets) | {
            RIGHTS,
            *(ping_dataset(p.name) for p in providers),
        }
        self.habilitations = habilitations
        self.journal = journal
        self.certifier = certifier
        self.keyring = keyring
        self.config = config or default_settings()
        self.upstreams = {
            p.name: Upstream(
                p.name,
                self.config.upstream_url(p.name).rstrip("/") + "/",
                p.errors,
                timeout=p.upstream_timeout,
                attempts=self.config.upstream_attempts,
                max_connections=self.config.upstream_max_connections,
            )
            for p in providers
        }
        self.health = health or Health.of(
            {p.name: p.errors.unavailable for p in providers},
            maintenance or Maintenance.load(self.config.maintenance_file, self.providers),
            threshold=self.config.breaker_threshold,
            cool_down=self.config.breaker_cool_down,
        )
        self.cache = cache
        self.pipeline = pipeline or Pipeline(
            self.providers,
            habilitations,
            self.upstreams,
            introspector=introspector,
            cache=cache,
            health=self.health,
        )
        self.sealer = sealer or Sealer(certifier)
        self._hash_request = hash_request
        self._connection: AbstractRobustConnection | None = None
        self._channels: list[AbstractChannel] = []
        self._consumers: dict[tuple[str, Lane], tuple[AbstractQueue, Any, str | None]] = {}
        """Each lane queue of each provider: the queue, its callback, its consumer tag (none
        while the lane is paused)."""
        self._watcher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: dict[tuple[str, str], asyncio.Future[None]] = {}
        """Requests being answered, by (requester, message_id): a copy waits for the first."""
        self._consuming = asyncio.Event()
        """Set once every consumer is registered: deliveries wait for it, so that a backlog
        does not slow the registrations that come after the first."""
        self._stopping = asyncio.Event()
        self._gate = LaneGate(
            floor=self.config.bulk_floor,
            ceiling=self.config.bulk_prefetch,
            hold=self.config.interactive_hold,
            slowdown=self.config.interactive_slowdown,
            held_back=BULK_HELD_BACK,
            limit_gauge=BULK_LIMIT,
        )
        self._metrics: web.AppRunner | None = None
        self._blocking: Blocking | None = None
        self._publisher: Publisher | None = None

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._connection = await connect_amqp(self.config.amqp_url, name="particulier-worker")
        self._blocking = Blocking(self._connection, "worker", on_change=AMQP_BLOCKED.set)
        self._publisher = Publisher(self._connection, self._blocking)
        setup = await self._connection.channel()
        await topology.apply(setup, self.providers)
        await setup.close()
        prefetch_of = {
            Lane.INTERACTIVE: self.config.interactive_prefetch,
            Lane.BULK: self.config.bulk_prefetch,
        }
        for lane in self.lanes:
            prefetch = prefetch_of[lane]
            channel = await self._connection.channel()  # replies go on the publisher's
            await channel.set_qos(prefetch_count=prefetch)
            self._channels.append(channel)
            for name in topology.served(self.providers):
                queue = await channel.get_queue(topology.queue_name(name, lane), ensure=True)
                callback = self._consumer(lane)
                paused = lane is Lane.BULK and name in self.providers and self.health.paused(name)
                tag = None if paused else await queue.consume(callback)
                self._consumers[(name, lane)] = (queue, callback, tag)
        self._consuming.set()
        self._watcher = asyncio.create_task(self._watch())
        log.info("worker started: providers=%s", ",".join(self.providers))

    async def _watch(self) -> None:
        """Pause a provider's bulk lane while it is in maintenance or its breaker is open (its
        messages wait in RabbitMQ), resume it after; trim the reply cache now and then."""
        trimmed = time.monotonic()
        while not self._stopping.is_set():
            await asyncio.sleep(WATCH_EVERY)
            for name in self.providers:
                with contextlib.suppress(Exception):  # a closed channel: the next turn retries
                    await self._follow(name)
            if self.cache is not None and time.monotonic() - trimmed >= TRIM_EVERY:
                trimmed = time.monotonic()
                try:
                    await self.cache.trim()
                except Exception as exc:
                    log.warning("reply cache not trimmed (%s)", type(exc).__name__)

    async def _follow(self, provider: str) -> None:
        consumer = self._consumers.get((provider, Lane.BULK))
        if consumer is None or self._stopping.is_set():
            return
        queue, callback, tag = consumer
        paused = self.health.paused(provider)
        if paused and tag is not None:
            await queue.cancel(tag)
            self._consumers[(provider, Lane.BULK)] = (queue, callback, None)
            log.warning("bulk lane of %s paused: provider unavailable or in maintenance", provider)
        elif not paused and tag is None:
            tag = await queue.consume(callback)
            self._consumers[(provider, Lane.BULK)] = (queue, callback, tag)
            log.info("bulk lane of %s resumed", provider)

    async def serve_metrics(self, port: int | None = None) -> None:
        """``/metrics`` for Prometheus, ``/.well-known/jwks.json`` for reply verifiers."""
        app = web.Application()

        async def metrics(_: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )

        published = self.keyring.jwks()
        if self.config.france_connect_key:
            extra = encryption_jwks(self.config.france_connect_key)["keys"]
            published = {**published, "keys": [*published["keys"], *extra]}

        async def jwks(_: web.Request) -> web.Response:
            return web.json_response(published)

        async def health(_: web.Request) -> web.Response:
            ok = self.healthy()
            return web.json_response({"amqp": ok}, status=200 if ok else 503)

        async def pings(_: web.Request) -> web.Response:
            return web.json_response({name: self.health.ping(name) for name in self.providers})

        async def ping(request: web.Request) -> web.Response:
            name = request.match_info["provider"]
            if name not in self.providers:
                return web.json_response({"error": "provider not served here"}, status=404)
            body = self.health.ping(name)
            return web.json_response(body, status=502 if body["status"] == "bad_gateway" else 200)

        app.router.add_get("/metrics", metrics)
        app.router.add_get("/.well-known/jwks.json", jwks)
        app.router.add_get("/healthz", health)
        app.router.add_get("/ping", pings)
        app.router.add_get("/ping/{provider}", ping)
        self._metrics = web.AppRunner(app, access_log=None)
        await self._metrics.setup()
        await web.TCPSite(self._metrics, "0.0.0.0", port or self.config.metrics_port).start()

    def healthy(self) -> bool:
        """Connected to RabbitMQ and consuming every lane: the worker answers."""
        connection = self._connection
        return (
            self._consuming.is_set()
            and connection is not None
            and connection.connected.is_set()
            and all(not channel.is_closed for channel in self._channels)
        )

    async def stop(self, grace: float = 30.0) -> None:
        """Stop consuming, let what is in flight finish, then close."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(BaseException):
                await self._watcher
        for queue, _, tag in self._consumers.values():
            if tag is not None:
                with contextlib.suppress(Exception):
                    await queue.cancel(tag)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)
        self._gate.close()
        if self._blocking is not None:
            await self._blocking.close()
        if self._publisher is not None:
            await self._publisher.close()
        if self._connection is not None:
            await close_in_time(self._connection)
        for upstream in self.upstreams.values():
            await upstream.aclose()
        if self.pipeline.introspector is not None:
            await self.pipeline.introspector.aclose()
        if self._metrics is not None:
            await self._metrics.cleanup()
        log.info("worker stopped")

    # -- one message --------------------------------------------------------------------------

    @property
    def publisher(self) -> Publisher:
        """Where replies and dead letters are published (confirmed, mandatory)."""
        assert self._publisher is not None, "the worker is not started"
        return self._publisher

    def _processing(self, message_type: str | None, lane: Lane) -> Any:
        """The histogram child of a dataset and lane; ``type`` is the requester's text, so
        only the ids of served datasets become labels (bounded, never personal data)."""
        dataset = message_type if message_type in self._served else "unknown"
        return self._processing_child(dataset, lane.value)

    @functools.lru_cache(maxsize=1024)  # noqa: B019  (one worker per process)
    def _processing_child(self, dataset: str, lane: str) -> Any:
        return PROCESSING_SECONDS.labels(dataset, lane)

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _requests(self, dataset: str, lane: str, status: str, code: str) -> Any:
        return REQUESTS.labels(dataset, lane, status, code)

    def _consumer(self, lane: Lane) -> Any:
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            await self._consuming.wait()
            gate = (
                self._gate.interactive_request()
                if lane is Lane.INTERACTIVE
                else self._gate.bulk_request()
            )
            started = time.perf_counter()
            try:
                async with gate as permit:
                    IN_FLIGHT.labels(lane.value).inc()
                    try:
                        await self._handle(lane, message, permit)
                    finally:
                        IN_FLIGHT.labels(lane.value).dec()
            except asyncio.CancelledError:
                raise
            except _BoundExceeded:
                log.error("request held past the worker's bound; dead-lettered")
                await self._last_resort(message, DeadReason.DEADLINE_EXCEEDED)
            except Exception:
                log.exception("unexpected failure; request dead-lettered")
                await self._last_resort(message, DeadReason.INTERNAL_FAILURE)
            finally:
                self._processing(message.type, lane).observe(time.perf_counter() - started)
                if task is not None:
                    self._tasks.discard(task)

        return on_message

    async def _handle(
        self,
        lane: Lane,
        message: AbstractIncomingMessage,
        permit: Permit,
    ) -> None:
        if not message.reply_to:
            await self._dead_letter(message, DeadReason.NO_REPLY_TO)
            return
        if not own_reply_queue(message.user_id, message.reply_to):
            await self._dead_letter(message, DeadReason.REPLY_TO_REFUSED)
            return
        assert message.user_id is not None  # own_reply_queue needs a requester
        request = read_request(
            body=message.body,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            requester=message.user_id,
            reply_queue=message.reply_to,
            lane=lane,
            headers=message.headers,
            default_deadline=self.config.default_deadline,
            hash_request=self._hash_request,
        )
        if not message.message_id:
            await self._answer(request, message, permit, None)
            return
        key = (request.requester, request.message_id)
        while (first := self._in_flight.get(key)) is not None and not first.done():
            await asyncio.shield(first)  # done once its reply is journaled: replay that
        answered = self._in_flight[key] = asyncio.get_running_loop().create_future()
        try:
            await self._answer(request, message, permit, answered)
        finally:
            if self._in_flight.get(key) is answered:
                del self._in_flight[key]
            if not answered.done():
                answered.set_result(None)

    async def _answer(
        self,
        request: Request,
        message: AbstractIncomingMessage,
        permit: Permit,
        answered: asyncio.Future[None] | None,
    ) -> None:
        """Replay the journaled reply of this ``message_id``, or serve the request."""
        if answered is not None:
            with STEPS[Step.REPLAY].time():
                saved = await self._journal_call(
                    self.journal.replay, request.requester, request.message_id
                )
            if saved is not None:
                await self._deliver(message, self.sealer.replay(request, saved))
                return
        try:
            async with asyncio.timeout(self._handling_bound(request)) as bound:
                with STEPS[Step.ANSWER].time():
                    answer = await self.pipeline.answer(request, permit)
                with STEPS[Step.SEAL].time():
                    sealed = self.sealer.seal(request, answer)
        except TimeoutError:
            if bound.expired():
                raise _BoundExceeded from None
            raise
        await self._deliver(message, sealed, answered)
        self._count(request, answer)

    def _count(self, request: Request, answer: Answer) -> None:
        served = request.dataset_id in self._served
        self._requests(
            answer.dataset.id if answer.dataset else request.dataset_id if served else "unknown",
            request.lane.value,
            str(answer.status),
            answer.code or "",
        ).inc()

    def _handling_bound(self, request: Request) -> float:
        """Seconds this request may take before the last resort ends it.

        Every step is bounded on its own (the upstream call by the deadline); this catches
        the step nobody foresaw, so that no message holds a prefetch slot for good. Waiting
        out a journal outage is outside it: an outage waits, it does not lose requests."""
        left = request.deadline - time.monotonic()
        return max(0.0, min(left, self.config.max_handling)) + HANDLING_GRACE

    async def _journal_call(self, method: Any, *args: Any) -> Any:
        """Call the journal, waiting out an outage: no reply leaves without its row."""
        delay = 0.5
        while True:
            try:
                return await method(*args)
            except JournalUnavailable:
                JOURNAL_WAITS.inc()
                log.warning("journal unavailable; holding the request for %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _deliver(
        self,
        message: AbstractIncomingMessage,
        sealed: Sealed,
        answered: asyncio.Future[None] | None = None,
    ) -> None:
        """Journal the reply, then publish it: no reply leaves without its row (invariant 2).

        ``answered`` resolves once the row is committed, so that copies of the same request
        waiting in this process replay it even if this delivery's channel has died."""
        try:
            with STEPS[Step.JOURNAL].time():
                await self._journal_call(self.journal.record, sealed.entry, sealed.reply)
        except JournalError:
            log.exception("journal refused a row; request dead-lettered")
            await self._dead_letter(message, DeadReason.JOURNAL_REFUSED)
            return
        if answered is not None and not answered.done():
            answered.set_result(None)
        await self._publish(message, sealed.reply)

    async def _publish(self, message: AbstractIncomingMessage, reply: bytes) -> None:
        """Publish the reply (mandatory, confirmed), then ack the request (invariant 1).

        A reply RabbitMQ refuses (a nack) or leaves unconfirmed (the next attempt goes on a new
        channel, see :class:`~broker.sdk.Publisher`; a copy may have arrived, which the
        requester ignores) or returns while its queue exists (a replicated reply
        queue between two leaders, during a cluster's failover) is published again a few
        times; one returned for want of a queue (the requester gone) is dead-lettered at once."""
        assert message.reply_to is not None
        for pause in (*REPLY_REFUSED_PAUSES, None):
            try:
                with STEPS[Step.REPLY].time():
                    await self.publisher.publish(
                        aio_pika.Message(
                            reply,
                            content_type="application/json",
                            correlation_id=message.correlation_id,
                            message_id=uuid.uuid4().hex,  # aiormq matches a return by it
                            type="particulier.reply",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=message.reply_to,
                    )
            except (aio_pika.exceptions.DeliveryError, Unconfirmed) as refused:
                returned = isinstance(refused, aio_pika.exceptions.PublishError)
                if pause is None or (returned and not await self._queue_exists(message.reply_to)):
                    break
                await asyncio.sleep(pause)
                continue
            with STEPS[Step.ACK].time():
                await message.ack()
            return
        await self._dead_letter(message, DeadReason.REPLY_UNROUTABLE)

    async def _queue_exists(self, name: str) -> bool:
        """Whether queue ``name`` exists (a passive declaration, on a channel of its own since
        a refused one closes its channel); when it cannot be told, say it does."""
        if self._connection is None:
            return True
        try:
            async with asyncio.timeout(QUEUE_CHECK_TIMEOUT), self._connection.channel() as channel:
                await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False
        except (aio_pika.exceptions.AMQPError, OSError, TimeoutError):
            return True
        return True

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: DeadReason) -> None:
        """Keep an unanswerable message, with why, in ``particulier.dead``; then ack it."""
        headers = dict(message.headers or {})
        headers[REASON_HEADER] = reason.value
        headers[REQUESTER_HEADER] = message.user_id or ""
        headers["x-original-routing-key"] = message.routing_key or ""
        await self.publisher.publish(
            aio_pika.Message(
                message.body,
                headers=headers,
                content_type=message.content_type,
                correlation_id=message.correlation_id,
                message_id=message.message_id,
                reply_to=message.reply_to,
                type=message.type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            exchange=DEAD_EXCHANGE,
            routing_key=message.routing_key or "",
        )
        DEAD_LETTERS.labels(reason.value).inc()
        await message.ack()

    async def _last_resort(self, message: AbstractIncomingMessage, reason: DeadReason) -> None:
        """End a request that failed outside every coded path: dead-letter it, or, if even
        that fails, hand it back to RabbitMQ (its delivery limit dead-letters it in the end).

        A delivery whose channel has closed is RabbitMQ's again already: it comes back."""
        if message.processed:
            return
        try:
            message.channel  # noqa: B018 (raises once the delivery's channel has closed)
        except aio_pika.exceptions.ChannelInvalidStateError:
            return
        try:
            await self._dead_letter(message, reason)
        except Exception:
            log.exception("could not dead-letter a request; handed back to RabbitMQ")
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)


@contextlib.asynccontextmanager
async def serving(
    providers: Sequence[Provider],
    *,
    config: Settings | None = None,
    journal_of: Callable[[asyncpg.Pool], Journal] = Journal,
    certifier_of: Callable[[KeyRing], Certifier] = Certifier,
    **options: Any,
) -> AsyncIterator[Worker]:
    """A worker with its database pool, habilitations, journal and keys, not yet started;
    everything is closed on exit. ``journal_of``, ``certifier_of`` and the :class:`Worker`
    ``options`` are the composition's seams (tests, benchmark variants)."""
    from ..db import create_pool

    config = config or default_settings()
    pool = await create_pool(config.database_url)
    habilitations = Habilitations(pool)
    journal = journal_of(pool)
    keyring = KeyRing.load()
    options.setdefault("introspector", connect(config))
    if CacheSettings().cache:
        options.setdefault("cache", ReplyCache(pool))
    worker = Worker(
        providers,
        habilitations=habilitations,
        journal=journal,
        certifier=certifier_of(keyring),
        keyring=keyring,
        config=config,
        **options,
    )
    try:
        await habilitations.start()
        await journal.start()
        yield worker
    finally:
        await worker.stop()
        await journal.close()
        await habilitations.close()
        await pool.close()


async def until_signalled() -> None:
    """Wait for SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run(
    provider_names: Sequence[str],
    *,
    metrics_port: int | None = None,
    lanes: Sequence[Lane] = tuple(Lane),
) -> None:
    """Run a worker until SIGTERM or SIGINT (``particulier worker``)."""
    from .. import registry

    providers = [registry.provider(n) for n in provider_names]
    async with serving(providers, lanes=lanes) as worker:
        await worker.serve_metrics(metrics_port)  # /healthz says 503 until the worker consumes
        await worker.start()
        # Everything allocated so far lives as long as the process: out of the collector's
        # sight, a full collection under load takes a few milliseconds instead of 40 to 80,
        # which were the interactive lane's worst latencies (docs/benchmarks.md, case 6).
        gc.freeze()
        await until_signalled()
