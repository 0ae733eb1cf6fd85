"""``Client.batch``: many requests through the ``bulk`` lane, results as they arrive.

>>> async with Client(url, jwks=jwks) as client:
...     async for result in client.batch("cnav.quotient_familial", rows, recipient=SIRET):
...         print(result.row, result.status, result.code)

What makes it fit for a night of 10^6 households:

- a bounded window: at most ``window`` rows are started and not yet handed to the caller, so
  memory does not grow with the input, which is read only as slots free up;
- a durable reply queue of the run's own (``reply.<user>.batch.<run_id>``, expiring after days
  unused), so replies published while the caller is down wait for it;
- message ids derived from the run id and the row number (``<run>.<row>`` then
  ``<run>.<row>.<attempt>`` for re-sends): a redelivered request is answered from the journal,
  and a resumed run can tell which row a waiting reply belongs to;
- 429 replies are re-sent after their ``retry_in`` and slow the pace (AIMD), so the
  habilitation's rate limit is honoured without failing rows; transient errors (``retry_in``,
  503, 504) and silence are re-sent a few times before the row gets its final answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._canonical import request_hash
from ._reply import Reply
from ._results import LOCAL_NO_REPLY, LOCAL_PROOF_INVALID, BatchResult, local_error
from ._rows import BatchRow
from .contract import Lane, ReplyBody, reply_queue

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

    from ._client import Client

__all__ = [
    "BatchSession",
    "BatchStats",
    "Pacer",
    "batch_queue_name",
    "new_run_id",
    "parse_message_id",
]

log = logging.getLogger("particulier.batch")

_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_QUEUE_EXPIRES_MS = 3 * 24 * 3600 * 1000
"""A run's reply queue outlives its runner for three days (RabbitMQ's ``x-expires``)."""


def new_run_id() -> str:
    """``YYYYMMDD-HHMMSS-xxxxxx``: sortable, and valid in queue names and message ids."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError("a run id is 1-64 letters, digits, '-' or '_'")
    return run_id


def batch_queue_name(requester: str, run_id: str) -> str:
    return reply_queue(requester, f"batch.{run_id}")


def message_id(run_id: str, row: int, attempt: int) -> str:
    return f"{run_id}.{row}" if attempt == 0 else f"{run_id}.{row}.{attempt}"


def parse_message_id(value: str) -> tuple[str, int, int] | None:
    """``(run_id, row, attempt)`` of a batch message id, or ``None``."""
    parts = value.split(".")
    try:
        if len(parts) == 2:
            return parts[0], int(parts[1]), 0
        if len(parts) == 3:
            return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None
    return None


class _Meter:
    """Events per second over a sliding window (the time since the start while shorter)."""

    def __init__(self, began: float, span: float = 2.0) -> None:
        self.span = span
        self._began = began
        self._times: collections.deque[float] = collections.deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] < now - self.span:
            self._times.popleft()

    def rate(self, now: float) -> float:
        self._trim(now)
        return len(self._times) / max(1.0, min(self.span, now - self._began))


class Pacer:
    """Spaces publications to a rate that adapts to the broker's 429s.

    Without ``limit`` it starts unbounded. The broker's limiter lets through exactly the
    habilitation's rate, so on a 429 (at most one acted on per second) the rate at which
    replies other than 429 came over the last two seconds is taken as the limit, and the pace
    drops to 95 % of it (a pace at the limit itself is refused half the time). The first 429
    pauses publication for a second and measures after it: 429s come back faster than the
    accepted replies of the same burst. Without 429 the pace climbs back towards 97 % of the
    measured limit within seconds, and probes above it only after half a minute without 429
    (the habilitation may have been raised), by 1 % a second, up to ``limit``.
    """

    def __init__(
        self,
        limit: float | None = None,
        *,
        floor: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.rate: float | None = limit
        self.floor = floor
        self.ceiling: float | None = None
        """The broker's limit as last measured."""
        self._next = 0.0
        self._last_cut = -1e9
        self._last_raise = clock()
        self._measure_at: float | None = None
        self._accepted = _Meter(clock())

    async def wait(self) -> None:
        now = self.clock()
        self._measure_due(now)
        at = max(now, self._next)
        if self.rate is not None:
            self._next = at + 1.0 / self.rate
        if at > now:
            await asyncio.sleep(at - now)

    def throttled(self) -> None:
        now = self.clock()
        if now - self._last_cut < 1.0 or self._measure_at is not None:
            return
        self._last_cut = self._last_raise = now
        if self.ceiling is None:
            self._measure_at = now + 1.0
            self._next = max(self._next, now + 1.0)
        else:
            self._cut(now)

    def _measure_due(self, now: float) -> None:
        if self._measure_at is not None and now >= self._measure_at:
            self._measure_at = None
            self._cut(now)

    def _cut(self, now: float) -> None:
        measured = self._accepted.rate(now)
        if self.rate is not None:
            measured = min(measured, self.rate)
        self.ceiling = max(self.floor, measured)
        self.rate = max(self.floor, 0.95 * measured)
        self._last_cut = self._last_raise = now
        self._next = max(self._next, now + 1.0 / self.rate)

    def answered(self) -> None:
        now = self.clock()
        self._accepted.tick(now)
        self._measure_due(now)
        if self.rate is None or now - self._last_raise < 1.0:
            return
        self._last_raise = now
        if self.ceiling is not None and self.rate < 0.97 * self.ceiling:
            raised = min(0.97 * self.ceiling, self.rate + max(0.5, self.rate * 0.05))
        elif self.ceiling is None or now - self._last_cut >= 30.0:
            raised = self.rate * 1.01 + 0.1
        else:
            return
        self.rate = raised if self.limit is None else min(self.limit, raised)


@dataclass
class BatchStats:
    """Counters for progress displays (no personal data)."""

    sent: int = 0
    resent: int = 0
    throttled: int = 0
    """429 replies received (each re-sent later)."""
    transient: int = 0
    """Transient errors re-sent (timeouts, unavailable upstream)."""
    silent: int = 0
    """Re-sends after ``reply_timeout`` without a reply."""
    paused: int = 0
    """Rows refused because their provider was in maintenance or its breaker open, re-sent
    once it was expected back (not counted as retries)."""
    paused_seconds: float = 0.0
    """How long the run held its sending for such a provider."""
    ignored: int = 0
    """Replies for rows already answered, or foreign to the run."""
    early: int = 0
    """Replies found waiting for rows not read yet (a resumed run)."""
    in_flight: int = 0
    waiting: int = 0
    """Rows waiting to be re-sent."""
    rate: float | None = None


_QUEUED, _SENT, _WAITING = "queued", "sent", "waiting"


@dataclass(eq=False)
class _Pending:
    row: BatchRow
    params: dict[str, Any]
    attempt: int = 0
    message_id: str = ""
    hash: str = ""
    state: str = _QUEUED
    sent_at: dict[str, float] = field(default_factory=dict)
    transient: int = 0
    silences: int = 0
    publications: int = 0
    replies: int = 0


class BatchSession:
    """One batch run over a connected :class:`~broker.sdk.Client`; an async iterator of
    :class:`BatchResult`, in the order replies arrive.

    ``rows`` yields :class:`BatchRow` (numbered, with an id) or plain params mappings (numbered
    from 1). With ``auto_ack`` (the default) a result's reply is released from the durable
    queue when the next result is asked for; a caller that stores results (the CLI) passes
    ``auto_ack=False`` and calls :meth:`BatchResult.ack` once they are safely stored.

    ``done`` tells which rows a previous session already stored (their late replies are
    dropped); ``drain`` makes the session take in the replies already waiting in the queue
    before it publishes anything, so a resumed run does not ask again for them.

    A reply saying the provider is paused (``meta.provider_paused``: a maintenance window, an
    open breaker) holds the session's sending until the error's ``retry_in``, and the row is
    asked again then without spending a retry; ``max_pause`` bounds the total wait of a run.
    An editor's run names the agency it acts for in ``on_behalf_of``.
    """

    def __init__(
        self,
        client: Client,
        dataset: str,
        rows: Iterable[BatchRow | Mapping[str, Any]] | AsyncIterable[BatchRow | Mapping[str, Any]],
        *,
        recipient: str,
        window: int = 256,
        run_id: str | None = None,
        version: int | None = None,
        rate: float | None = None,
        reply_timeout: float = 600.0,
        retries: int = 3,
        max_pause: float = 6 * 3600.0,
        on_behalf_of: str | None = None,
        auto_ack: bool = True,
        done: Callable[[int], bool] | None = None,
        drain: bool = False,
        queue_expires_ms: int = DEFAULT_QUEUE_EXPIRES_MS,
        delete_queue: bool = True,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.client = client
        self.dataset = dataset
        self.recipient = recipient
        self.version = version
        self.window = window
        self.run_id = check_run_id(run_id or new_run_id())
        self.reply_timeout = reply_timeout
        self.retries = retries
        self.max_pause = max_pause
        self.on_behalf_of = on_behalf_of
        self._paused_until = 0.0
        self.auto_ack = auto_ack
        self.queue_expires_ms = queue_expires_ms
        self.delete_queue = delete_queue
        self.stats = BatchStats()
        self.pacer = Pacer(rate)
        self.queue_name = batch_queue_name(client.requester, self.run_id)
        self._rows = rows
        self._done = done
        self._drain = drain
        self._slots = asyncio.Semaphore(window)
        self._results: asyncio.Queue[BatchResult | BaseException | None] = asyncio.Queue()
        self._pending: dict[int, _Pending] = {}
        self._ready: list[tuple[int, int, _Pending]] = []
        self._ready_event = asyncio.Event()
        self._seq = itertools.count()
        self._early: dict[int, list[AbstractIncomingMessage]] = {}
        self._early_cap = 4 * window + 64
        self._strays: dict[int, int] = {}
        """Rows answered while other publications of theirs were still out: replies to expect."""
        self._feeding_done = False
        self._finished = False
        self._drained = asyncio.Event()
        self._caught_up = asyncio.Event()
        self._waiting = 0
        self._received = 0
        self._acks: set[asyncio.Task[None]] = set()
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._publishes: set[asyncio.Task[None]] = set()
        self._publish_slots = asyncio.Semaphore(64)
        self._last: BatchResult | None = None
        self._started = False
        self._closed = False
        self.completed = False

    # -- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> BatchSession:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self

    async def start(self) -> None:
        """Declare the run's reply queue, start consuming it, then start publishing."""
        if self._started:
            return
        self._started = True
        channel = await self.client.channel()
        self._channel = channel
        await channel.set_qos(prefetch_count=self._early_cap + 2 * self.window)
        queue = await channel.declare_queue(
            self.queue_name,
            durable=True,
            arguments=self.client.queue_arguments(self.queue_expires_ms),
        )
        self._queue = queue
        waiting = int(getattr(queue.declaration_result, "message_count", 0) or 0)
        self._waiting = waiting if self._drain else 0
        if self._waiting == 0:
            self._caught_up.set()
        self._consumer_tag = await queue.consume(self._on_reply)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._guard(self._drain_first(waiting))),
            loop.create_task(self._guard(self._feed())),
            loop.create_task(self._guard(self._send_loop())),
            loop.create_task(self._guard(self._sweep())),
        ]

    async def close(self) -> None:
        """Stop publishing and consuming. Rows in flight keep their replies in the durable
        queue for a later session, unless the run completed and nothing more can arrive."""
        if self._closed:
            return
        self._closed = True
        if self.auto_ack and self._last is not None:
            await self._last.ack()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._publishes:
            await asyncio.wait(self._publishes, timeout=10)
        if self._queue is not None and self._consumer_tag is not None:
            with contextlib.suppress(Exception):
                await self._queue.cancel(self._consumer_tag)
        outstanding = self.stats.sent - self._received
        if (
            self.completed
            and self.delete_queue
            and not self._drain
            and outstanding <= 0
            and self._queue is not None
        ):
            with contextlib.suppress(Exception):
                await self._queue.delete(if_unused=False, if_empty=False)
        if self._channel is not None:
            with contextlib.suppress(Exception):
                await self._channel.close()

    async def _guard(self, work: Any) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the iterating caller
            log.error("batch session failed: %s", type(exc).__name__)
            self._results.put_nowait(exc)

    # -- iteration ----------------------------------------------------------------------------

    async def __anext__(self) -> BatchResult:
        if not self._started:
            await self.start()
        if self.auto_ack and self._last is not None:
            await self._last.ack()
            self._last = None
        if self._closed:
            raise StopAsyncIteration
        item = await self._results.get()
        if item is None:
            self.completed = True
            await self.close()
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            await self.close()
            raise item
        self._slots.release()
        if self.auto_ack:
            self._last = item
        return item

    def _deliver(self, result: BatchResult) -> None:
        self._results.put_nowait(result)
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self._feeding_done and not self._pending and not self._finished:
            self._finished = True
            for messages in self._early.values():
                for message in messages:
                    self.stats.ignored += 1
                    self._ack_later(message)
            self._early.clear()
            self._results.put_nowait(None)

    def _ack_later(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.get_running_loop().create_task(_ack(message))
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    # -- feeding and publishing ---------------------------------------------------------------

    async def _drain_first(self, waiting: int) -> None:
        """Let replies already in the queue come in before anything is published."""
        if self._drain and waiting:
            if self._received < waiting:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._caught_up.wait(), 30)
            log.info("batch %s: %d replies were waiting in the queue", self.run_id, self._received)
        self._drained.set()

    async def _feed(self) -> None:
        await self._drained.wait()
        numbers = itertools.count(1)
        async for item in _aiter(self._rows):
            row = item if isinstance(item, BatchRow) else BatchRow(n := next(numbers), str(n), item)
            await self._slots.acquire()
            if row.problem is not None or row.params is None:
                self._deliver(
                    local_error(
                        row.number,
                        row.id,
                        row.problem or "local.malformed_row",
                        parameter=row.parameter,
                        detail=row.detail,
                    )
                )
                continue
            pending = _Pending(row, dict(row.params))
            if row.number in self._early and self._settle_early(pending):
                continue
            self._pending[row.number] = pending
            self._queue_send(pending, priority=1)
        self._feeding_done = True
        self._maybe_finish()

    def _queue_send(self, pending: _Pending, priority: int) -> None:
        pending.state = _QUEUED
        heapq.heappush(self._ready, (priority, next(self._seq), pending))
        self._ready_event.set()

    async def _send_loop(self) -> None:
        while True:
            while not self._ready:
                self._ready_event.clear()
                await self._ready_event.wait()
            _, _, pending = heapq.heappop(self._ready)
            if self._pending.get(pending.row.number) is not pending or pending.state != _QUEUED:
                continue
            if (hold := self._paused_until - time.monotonic()) > 0:
                await asyncio.sleep(hold)  # a provider paused: its lane waits for its return
            await self.pacer.wait()
            await self._publish_slots.acquire()
            task = asyncio.get_running_loop().create_task(self._publish(pending))
            self._publishes.add(task)
            task.add_done_callback(self._publishes.discard)

    async def _publish(self, pending: _Pending) -> None:
        try:
            mid = message_id(self.run_id, pending.row.number, pending.attempt)
            pending.message_id = mid
            pending.hash = self._hash(pending.params, mid)
            pending.state = _SENT
            pending.sent_at[mid] = time.monotonic()
            pending.publications += 1
            try:
                await self.client.publish(
                    self.dataset,
                    pending.params,
                    recipient=self.recipient,
                    on_behalf_of=self.on_behalf_of,
                    correlation_id=mid,
                    message_id=mid,
                    reply_to=self.queue_name,
                    version=self.version,
                    lane=Lane.BULK,
                    deadline=time.time() + self.reply_timeout,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Connection lost or publish refused: try again shortly, same message id.
                log.warning(
                    "batch %s: publish failed (%s); retrying", self.run_id, type(exc).__name__
                )
                pending.publications -= 1
                self._later(pending, 1.0, priority=0)
                return
            self.stats.sent += 1
            if pending.publications > 1:
                self.stats.resent += 1
        finally:
            self._publish_slots.release()

    def _later(self, pending: _Pending, delay: float, *, priority: int = 0) -> None:
        pending.state = _WAITING

        def due() -> None:
            if self._pending.get(pending.row.number) is pending and pending.state == _WAITING:
                self._queue_send(pending, priority)

        asyncio.get_running_loop().call_later(delay, due)

    def _hash(self, params: Mapping[str, Any], mid: str) -> str:
        return request_hash(
            dataset=self.dataset,
            version=self.version,
            params=params,
            recipient=self.recipient,
            message_id=mid,
            requester=self.client.requester,
            on_behalf_of=self.on_behalf_of,
        )

    async def _sweep(self) -> None:
        """Re-send rows whose reply is overdue; give up after ``retries`` silences."""
        while True:
            await asyncio.sleep(min(5.0, self.reply_timeout / 4))
            now = time.monotonic()
            for pending in list(self._pending.values()):
                if pending.state != _SENT:
                    continue
                sent = max(pending.sent_at.get(pending.message_id, now), self._paused_until)
                if now - sent < self.reply_timeout:
                    continue
                if pending.silences >= self.retries:
                    self._final(
                        pending,
                        local_error(
                            pending.row.number,
                            pending.row.id,
                            LOCAL_NO_REPLY,
                            attempts=pending.publications,
                        ),
                    )
                    continue
                pending.silences += 1
                pending.attempt += 1
                self.stats.silent += 1
                self._queue_send(pending, priority=0)
            self.refresh_stats()

    def refresh_stats(self) -> None:
        """Bring :attr:`stats` up to date (rows in flight and waiting, current pace)."""
        pending = list(self._pending.values())
        self.stats.in_flight = sum(1 for p in pending if p.state == _SENT)
        self.stats.waiting = sum(1 for p in pending if p.state != _SENT and p.attempt > 0)
        self.stats.rate = self.pacer.rate

    # -- replies ------------------------------------------------------------------------------

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        self._received += 1
        if self._received >= self._waiting and not self._caught_up.is_set():
            self._caught_up.set()
        parsed = parse_message_id(message.correlation_id or "")
        if parsed is None or parsed[0] != self.run_id:
            self.stats.ignored += 1
            await _ack(message)
            return
        _, row, _ = parsed
        pending = self._pending.get(row)
        if pending is not None:
            pending.replies += 1
            await self._settle(pending, message)
            return
        if row in self._strays:
            self._strays[row] -= 1
            if self._strays[row] <= 0:
                del self._strays[row]
            self.stats.ignored += 1
            await _ack(message)
            return
        if (self._done is not None and self._done(row)) or self._feeding_done:
            self.stats.ignored += 1
            await _ack(message)
            return
        if sum(len(m) for m in self._early.values()) >= self._early_cap:
            self.stats.ignored += 1  # the row is asked again when it is read
            await _ack(message)
            return
        self._early.setdefault(row, []).append(message)

    async def _settle(self, pending: _Pending, message: AbstractIncomingMessage) -> None:
        mid = message.correlation_id or ""
        current = mid == pending.message_id
        try:
            body = self.client.verify(
                message.body, pending.hash if current else self._hash(pending.params, mid)
            )
        except Exception:
            await _ack(message)
            if not current:
                self.stats.ignored += 1
                return
            self._final(
                pending,
                local_error(
                    pending.row.number,
                    pending.row.id,
                    LOCAL_PROOF_INVALID,
                    attempts=pending.publications,
                ),
            )
            return
        status = body.status
        retry_in = body.retry_in
        paused = body.provider_paused and retry_in is not None and self._may_pause()
        if body.retryable and (status == 429 or paused or pending.transient < self.retries):
            await _ack(message)
            if not current or pending.state != _SENT:
                self.stats.ignored += 1  # a newer attempt is on its way
                return
            if status == 429:
                self.stats.throttled += 1
                self.pacer.throttled()
            elif paused:
                assert retry_in is not None
                self.stats.paused += 1
                self._pause(retry_in)
            else:
                pending.transient += 1
                self.stats.transient += 1
            pending.attempt += 1
            delay = retry_in if retry_in is not None else 2.0**pending.transient
            self._later(pending, delay * random.uniform(1.0, 1.2))
            return
        self.pacer.answered()
        self._final(pending, self._result(pending, body, message, mid))

    def _may_pause(self) -> bool:
        return self.stats.paused_seconds < self.max_pause

    def _pause(self, seconds: float) -> None:
        """Hold sending until the provider is expected back; replies overdue meanwhile are
        not silences (their requests wait in RabbitMQ while its lane is paused)."""
        now = time.monotonic()
        until = now + seconds
        if until > self._paused_until:
            self.stats.paused_seconds += until - max(now, self._paused_until)
            self._paused_until = until

    def _final(self, pending: _Pending, result: BatchResult) -> None:
        if self._pending.get(pending.row.number) is pending:
            del self._pending[pending.row.number]
        if pending.publications > pending.replies:
            self._strays[pending.row.number] = pending.publications - pending.replies
        self._deliver(result)

    def _result(
        self, pending: _Pending, body: ReplyBody, message: AbstractIncomingMessage, mid: str
    ) -> BatchResult:
        sent = pending.sent_at.get(mid)
        return BatchResult(
            row=pending.row.number,
            id=pending.row.id,
            status=body.status,
            code=body.errors[0].code if body.errors else None,
            data=body.data,
            errors=[e.model_dump(mode="json") for e in body.errors],
            request_id=mid,
            latency=None if sent is None else time.monotonic() - sent,
            attempts=pending.publications,
            reply=Reply(body, message.body, mid, mid),
            _message=message,
        )

    def _settle_early(self, pending: _Pending) -> bool:
        """A reply for this row was waiting (published before a resume): use it if final."""
        messages = self._early.pop(pending.row.number, [])
        chosen: BatchResult | None = None
        for message in messages:
            mid = message.correlation_id or ""
            if chosen is None:
                try:
                    body = self.client.verify(message.body, self._hash(pending.params, mid))
                except Exception:
                    body = None
                if body is not None and not body.retryable:
                    self.stats.early += 1
                    chosen = self._result(pending, body, message, mid)
                    continue
            self.stats.ignored += 1
            self._ack_later(message)
        if chosen is not None:
            self._deliver(chosen)
            return True
        return False


async def _ack(message: AbstractIncomingMessage) -> None:
    with contextlib.suppress(Exception):
        await message.ack()


async def _aiter(rows: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(rows, AsyncIterable):
        async for item in rows:
            yield item
    else:
        iterator: Iterator[Any] = iter(rows)
        for item in iterator:
            yield item
