"""The worker's pipeline, ``request -> answer``: validate, authorise, fetch, mask.

It never sees AMQP, signs nothing and writes nothing: the edge (:mod:`._edge`) feeds it
:class:`Request` values and seals what it answers (:mod:`._sealing`). Its steps are
injected, so that tests and benchmarks swap one without patching a module.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..cache import CachedAnswer, ReplyCache
from ..errors import BROKER, ProblemError
from ..france_connect import ERRORS as FRANCE_CONNECT
from ..france_connect import FranceConnectError, Introspection, Introspector
from ..habilitations import Grant, check_recipient
from ..journal import pseudonym
from ..kit import Dataset, Params, Provider, Upstream, UpstreamCall, validate_params
from ..metrics import CACHE_LOOKUPS, STEPS, UPSTREAM_COALESCED, Step
from ..sdk.contract import PING, RIGHTS, Mode
from ._health import Health
from ._request import Request

__all__ = ["REPLY_MARGIN", "Answer", "Authorizer", "Pipeline"]

log = logging.getLogger("particulier.worker")

REPLY_MARGIN = 0.3
"""Seconds kept before the deadline to sign, journal and deliver the reply."""

_check_recipient = functools.lru_cache(maxsize=4096)(check_recipient)
"""Agencies send for a handful of recipients: the SIRET checksum is computed once each."""

_REFUSALS = {
    FranceConnectError.MALFORMED: BROKER.FRANCE_CONNECT_MALFORMED,
    FranceConnectError.INACTIVE: BROKER.FRANCE_CONNECT_INACTIVE,
    FranceConnectError.UNTRUSTED: FRANCE_CONNECT.unknown,
    FranceConnectError.UNREACHABLE: FRANCE_CONNECT.unavailable,
}
"""What answers a token FranceConnect refuses, or FranceConnect failing."""


class Authorizer(Protocol):
    """Who may ask what (:class:`broker.habilitations.Habilitations`)."""

    async def authorize(
        self,
        *,
        requester: str,
        dataset: str,
        dataset_scopes: Sequence[str],
        lane: str,
        mode: Mode = Mode.IDENTITY,
        france_connect_client: str | None = None,
        on_behalf_of: str | None = None,
    ) -> Grant: ...

    def rights(self, requester: str, on_behalf_of: str | None = None) -> dict[str, Any]:
        """What the requester's habilitations (an editor's: its delegations) grant now."""
        ...


class Slot(Protocol):
    """The lane slot a request holds; released while the upstream answers."""

    def released(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class _Held:
    """The slot of a request served outside a lane gate (the in-memory harness)."""

    @contextlib.asynccontextmanager
    async def released(self) -> AsyncIterator[None]:
        yield


HELD = _Held()


@dataclass(frozen=True)
class Answer:
    """What the pipeline answers one request: data, or coded errors."""

    status: int = 200
    data: dict[str, Any] | None = None
    errors: tuple[dict[str, Any], ...] = ()
    dataset: Dataset | None = None
    provider_label: str | None = None
    grant: Grant | None = None
    subject: str | None = None
    """The pseudonym of the person asked about (journal)."""
    upstream_seconds: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    """What the reply's ``meta`` says beside ``data`` (the dataset's own, see
    :meth:`Dataset.reply_meta`, and whether it comes from the reply cache)."""
    cached: bool = False
    """The provider's answer came from the reply cache (journal column ``cached``)."""

    @classmethod
    def problem(cls, exc: ProblemError, **known: Any) -> Answer:
        return cls(status=exc.status, errors=(exc.error(),), **known)

    @property
    def code(self) -> str | None:
        return str(self.errors[0]["code"]) if self.errors else None

    @property
    def disclosed_scopes(self) -> tuple[str, ...]:
        """The scopes whose data the answer carries (none when it carries no data)."""
        if self.grant is None or self.data is None:
            return ()
        return tuple(sorted(self.grant.scopes))


@dataclass
class _Shared:
    """An upstream call in flight, and how many requests wait for it."""

    call: asyncio.Future[dict[str, Any]]
    waiting: int = 0


@dataclass
class Pipeline:
    """Serves the datasets of ``providers``; one per worker process."""

    providers: Mapping[str, Provider]
    authorizer: Authorizer
    upstreams: Mapping[str, Upstream]
    pseudonym: Callable[[Mapping[str, Any]], str] = field(default=pseudonym)
    introspector: Introspector | None = None
    """FranceConnect, for requests in FranceConnect mode (none: they are answered 51001)."""
    cache: ReplyCache | None = None
    """The reply cache (none: every request asks its provider)."""
    health: Health | None = None
    """The providers' health and maintenance windows (none: every request is let through)."""
    _in_flight: dict[tuple[str, int, str, str], _Shared] = field(
        default_factory=dict, init=False, repr=False
    )
    """Upstream calls in flight, by what they ask: identical requests share one."""

    def dataset_of(self, request: Request) -> Dataset | None:
        body = request.body
        if body is None:
            return None
        provider = self.providers.get(body.dataset.split(".", 1)[0])
        return provider.dataset(body.dataset, body.version) if provider else None

    async def answer(self, request: Request, slot: Slot = HELD) -> Answer:
        """The answer to ``request``; every failure is a coded answer, never an exception."""
        if request.problem is not None:
            return Answer.problem(request.problem)
        body = request.body
        assert body is not None  # a request without a body has a problem
        provider_name, _, name = body.dataset.partition(".")
        if name == PING and provider_name in self.providers:
            return self._ping(provider_name)
        if body.dataset == RIGHTS:
            try:
                rights = self.authorizer.rights(request.requester, body.on_behalf_of)
            except ProblemError as exc:
                return Answer.problem(exc)
            except Exception:
                log.exception("unexpected failure reading rights")
                return Answer.problem(ProblemError(BROKER.INTERNAL))
            return Answer(data=rights)
        dataset = self.dataset_of(request)
        if dataset is None:
            provider = self.providers.get(body.dataset.split(".", 1)[0])
            exists = provider is not None and provider.dataset(body.dataset) is not None
            return Answer.problem(
                ProblemError(BROKER.UNKNOWN_DATASET, parameter="version" if exists else "dataset")
            )
        label = self.providers[dataset.provider_name].label
        known: dict[str, Any] = {"dataset": dataset, "provider_label": label}
        try:
            _check_recipient(body.recipient)
            raw, mode, client, consent = body.params, Mode.IDENTITY, None, None
            citizen: str | None = None
            if body.france_connect_token is not None:
                introspection = await self._introspect(dataset, body.france_connect_token, slot)
                identity = introspection.civility()
                if "nomNaissance" not in identity:
                    raise ProblemError(BROKER.FRANCE_CONNECT_INSUFFICIENT)
                raw, mode = {**body.params, **identity}, Mode.FRANCE_CONNECT
                client, consent = introspection.client, introspection.scopes
                citizen = introspection.subject
                dataset = known["dataset"] = dataset.in_france_connect
            elif not dataset.identity:
                raise ProblemError(BROKER.IDENTITY_NOT_SERVED, parameter="france_connect_token")
            params = validate_params(
                dataset.params, raw, france_connect=mode is Mode.FRANCE_CONNECT
            )
            known["subject"] = self.pseudonym(params.subject())
            grant = known["grant"] = await self.authorizer.authorize(
                requester=request.requester,
                dataset=dataset.id,
                dataset_scopes=tuple(dataset.scopes),
                lane=request.lane.value,
                mode=mode,
                france_connect_client=client,
                on_behalf_of=body.on_behalf_of,
            )
            if consent is not None:
                grant = known["grant"] = replace(grant, scopes=grant.scopes & consent)
                if not grant.scopes:
                    raise ProblemError(BROKER.FRANCE_CONNECT_INSUFFICIENT)
            if request.deadline <= time.monotonic():
                raise ProblemError(BROKER.DEADLINE_EXPIRED)
            cache_key = self._cache_key(dataset, params, citizen)
            if cache_key is not None and not request.no_cache:
                hit = await self._cached(dataset, cache_key)
                if hit is not None:
                    return self._from_cache(dataset, params, hit, known)
            elif cache_key is not None:
                CACHE_LOOKUPS.labels(dataset.provider_name, "bypass").inc()
            try:
                probe = await self.health.admit(dataset.provider_name) if self.health else False
            except ProblemError:
                known["meta"] = {"provider_paused": True}
                raise
            call = self.upstreams[dataset.provider_name].call(request.deadline - REPLY_MARGIN)
            try:
                async with slot.released():
                    data = await self._fetch(dataset, call, params, cache_key)
            except ProblemError as exc:
                if exc.status == 404:
                    known["meta"] = {"cached": False}
                raise
            finally:
                known["upstream_seconds"] = call.elapsed
                if probe and self.health is not None:
                    self.health.providers[dataset.provider_name].probe_ended()
            return Answer(
                data=dataset.mask(data, grant.scopes),
                meta={**dataset.reply_meta(params, data), "cached": False},
                **known,
            )
        except ProblemError as exc:
            return Answer.problem(exc, **known)
        except Exception:
            log.exception("unexpected failure serving %s", dataset.id)
            return Answer.problem(ProblemError(BROKER.INTERNAL), **known)

    def _ping(self, provider: str) -> Answer:
        """The provider's health, as API Particulier's pings answer it."""
        label = self.providers[provider].label
        data: dict[str, Any] = self.health.ping(provider) if self.health else {"status": "unknown"}
        return Answer(data=data, provider_label=label)

    def _cache_key(self, dataset: Dataset, params: Params, citizen: str | None) -> bytes | None:
        if self.cache is None or not dataset.cache_seconds:
            return None
        return self.cache.key_of(
            dataset.id,
            dataset.version,
            dataset.route,
            params.model_dump(mode="json", exclude_none=True),
            citizen,
        )

    async def _cached(self, dataset: Dataset, key: bytes) -> CachedAnswer | None:
        """The cache's answer, if it holds one; a cache that cannot be read is a miss."""
        assert self.cache is not None
        try:
            with STEPS[Step.CACHE_READ].time():
                hit = await self.cache.get(key)
        except Exception as exc:
            log.warning("reply cache unreadable (%s); asking the provider", type(exc).__name__)
            CACHE_LOOKUPS.labels(dataset.provider_name, "error").inc()
            return None
        CACHE_LOOKUPS.labels(dataset.provider_name, "hit" if hit else "miss").inc()
        return hit

    @staticmethod
    def _from_cache(
        dataset: Dataset, params: Params, hit: CachedAnswer, known: dict[str, Any]
    ) -> Answer:
        """A disclosure from the cache: masked by this requester's own scopes."""
        meta = {"cached": True, "cache_expires_in": hit.expires_in}
        if hit.data is None:
            assert hit.error is not None
            return Answer(status=404, errors=(hit.error,), meta=meta, cached=True, **known)
        grant: Grant = known["grant"]
        return Answer(
            data=dataset.mask(hit.data, grant.scopes),
            meta={**dataset.reply_meta(params, hit.data), **meta},
            cached=True,
            **known,
        )

    async def _keep(
        self, dataset: Dataset, key: bytes, data: dict[str, Any] | None, error: Any = None
    ) -> None:
        """Put the provider's answer in the cache; a cache that cannot be written is only
        counted: the answer still goes out."""
        assert self.cache is not None
        try:
            with STEPS[Step.CACHE_WRITE].time():
                await self.cache.put(
                    key, dataset=dataset.id, lifetime=dataset.cache_seconds, data=data, error=error
                )
        except Exception as exc:
            log.warning("reply cache unwritable (%s)", type(exc).__name__)
            CACHE_LOOKUPS.labels(dataset.provider_name, "error").inc()

    async def _asked(
        self, dataset: Dataset, call: UpstreamCall, params: Params, cache_key: bytes | None
    ) -> dict[str, Any]:
        """One upstream call: its outcome feeds the provider's health and, data or nobody
        found, the cache. Unavailability, timeouts, rate limits are neither."""
        health = self.health.providers[dataset.provider_name] if self.health else None
        try:
            data = await dataset.fetch(call, params)
        except ProblemError as exc:
            if health is not None:
                health.record(None if exc.status == 429 else exc.status < 500)
            if exc.status == 404 and cache_key is not None:
                await self._keep(dataset, cache_key, None, exc.error())
            raise
        if health is not None:
            health.record(True)
        if cache_key is not None:
            await self._keep(dataset, cache_key, data)
        return data

    async def _fetch(
        self,
        dataset: Dataset,
        call: UpstreamCall,
        params: Params,
        cache_key: bytes | None = None,
    ) -> dict[str, Any]:
        """The upstream's data for ``params``, sharing the call of an identical request already
        in flight (same dataset, version, route and parameters) instead of asking twice: what
        API Particulier refuses with a 409 ``00015``, a message broker coalesces. Each
        requester is still authorised, masked, journaled and answered on its own, waits no
        longer than its own deadline, and a call that every requester gave up is cancelled,
        so that it never holds the next identical request."""
        key = (dataset.id, dataset.version, dataset.route, params.model_dump_json())
        shared = self._in_flight.get(key)
        if shared is None:
            shared = _Shared(asyncio.ensure_future(self._asked(dataset, call, params, cache_key)))
            shared.call.add_done_callback(functools.partial(self._landed, key, shared))
            self._in_flight[key] = shared
        else:
            UPSTREAM_COALESCED.labels(dataset.provider_name).inc()
        shared.waiting += 1
        left = call.deadline - time.monotonic() if call.deadline is not None else None
        timed_out = False
        try:
            return await asyncio.wait_for(asyncio.shield(shared.call), left)
        except TimeoutError:
            timed_out = True
            raise ProblemError(call.errors.timeout) from None
        finally:
            shared.waiting -= 1
            if not shared.waiting and not shared.call.done():
                self._landed(key, shared)
                shared.call.cancel()
                if timed_out and self.health is not None:
                    self.health.providers[dataset.provider_name].record(False)

    def _landed(self, key: tuple[str, int, str, str], shared: _Shared, *_: Any) -> None:
        """An upstream call ended or was given up: the next identical request asks again. A
        failure is read here, so that one whose waiters all gave up is not reported as never
        retrieved."""
        if self._in_flight.get(key) is shared:
            del self._in_flight[key]
        if shared.call.done() and not shared.call.cancelled():
            shared.call.exception()

    async def _introspect(self, dataset: Dataset, token: str, slot: Slot) -> Introspection:
        """The token's introspection; FranceConnect's refusals as API Particulier answers them.
        The lane slot is released while FranceConnect answers, as for an upstream call."""
        if not dataset.france_connect:
            raise ProblemError(BROKER.FRANCE_CONNECT_NOT_SERVED, parameter="france_connect_token")
        if self.introspector is None:
            raise ProblemError(FRANCE_CONNECT.unavailable)
        try:
            async with slot.released():
                return await self.introspector.introspect(token)
        except FranceConnectError as refused:
            raise ProblemError(_REFUSALS[refused.reason]) from None
