"""The HTTP side of a worker: one pooled session per provider, retries bounded by deadlines.

A provider's ``fetch`` receives an :class:`UpstreamCall` and only maps answers; transport
failures, retries and their codes are handled here once for every provider.
"""

from __future__ import annotations

import functools
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_random_exponential,
)
from yarl import URL

from ..errors import BROKER, ProblemError, ProviderErrors
from ..metrics import UPSTREAM_ERRORS, UPSTREAM_RETRIES, UPSTREAM_SECONDS

__all__ = ["Upstream", "UpstreamCall", "UpstreamResponse"]


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """An upstream's answer, read whole: what a provider maps."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class _Transient(Exception):
    """An attempt that may succeed if repeated (5xx, 429, timeout, DNS or network failure)."""

    def __init__(self, kind: str, response: UpstreamResponse | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.response = response


def _retry_after(response: UpstreamResponse | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _failure_of(exc: BaseException) -> str:
    """``dns``, ``network`` or ``timeout``: what an exchange that never got an answer met."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror | aiohttp.ClientConnectorDNSError):
            return "dns"
        cause = cause.__cause__ or cause.__context__
    return "timeout" if isinstance(exc, TimeoutError) else "network"


class Upstream:
    """A provider's upstream: one ``aiohttp.ClientSession`` shared by every request.

    Plain aiohttp: httpx's layers above the same pool cost about a sixth of a worker's CPU
    (``docs/benchmarks.md``, H1), and httpx's own pool scans every connection on every
    request."""

    def __init__(
        self,
        name: str,
        base_url: str,
        errors: ProviderErrors,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        max_connections: int = 512,
    ) -> None:
        self.name = name
        self.errors = errors
        self.timeout = timeout
        self.attempts = attempts
        self.base_url = URL(base_url)
        self.url = functools.lru_cache(maxsize=64)(self._join)
        """The URL of a path (relative to ``base_url``); the few paths of a provider parsed
        once."""
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _join(self, path: str) -> URL:
        return self.base_url.join(URL(path))

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled session, opened on first use (it belongs to the running loop); it keeps
        no cookie, since one citizen's answer must carry nothing into another's request."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def call(self, deadline: float | None) -> UpstreamCall:
        """A call context for one request; ``deadline`` is a ``time.monotonic()`` instant."""
        return UpstreamCall(self, deadline)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class UpstreamCall:
    """What a provider's ``fetch`` uses to reach its upstream for one request."""

    def __init__(self, upstream: Upstream, deadline: float | None) -> None:
        self._upstream = upstream
        self.deadline = deadline
        self.errors: ProviderErrors = upstream.errors
        self.elapsed = 0.0
        """Seconds spent in upstream exchanges, all attempts together."""

    def _remaining(self) -> float:
        if self.deadline is None:
            return self._upstream.timeout
        return min(self._upstream.timeout, self.deadline - time.monotonic())

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self._upstream.attempts:
            return True
        if self.deadline is None:
            return False
        return time.monotonic() + (state.upcoming_sleep or 0.0) >= self.deadline - 0.01

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient):
            after = _retry_after(exc.response)
            if after is not None:
                return after
        return float(wait_random_exponential(multiplier=0.05, max=2.0)(state))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        """Send one request, retrying transient failures; any other answer is returned.

        Raises :class:`ProblemError` with the provider's timeout, unavailable, rate-limited or
        DNS code, or the network error ``00501``, once retrying is over or the deadline leaves
        no room.
        """
        name = self._upstream.name
        errors = self.errors
        try:
            async for attempt in AsyncRetrying(
                stop=self._stop,
                wait=self._wait,
                retry=retry_if_exception_type(_Transient),
                before_sleep=lambda _s: UPSTREAM_RETRIES.labels(name).inc(),
                reraise=True,
            ):
                with attempt:
                    return await self._attempt(method, path, params, json_body, content, headers)
        except _Transient as exc:
            UPSTREAM_ERRORS.labels(name, exc.kind).inc()
            if exc.kind == "dns":
                raise ProblemError(errors.dns) from None
            if exc.kind == "network":
                raise ProblemError(BROKER.NETWORK_ERROR) from None
            if exc.kind == "timeout" or (exc.response is not None and exc.response.status == 504):
                raise ProblemError(errors.timeout) from None
            if exc.kind == "rate_limited":
                wait = _retry_after(exc.response)
                raise ProblemError(
                    errors.rate_limited, retry_in=int(wait) + 1 if wait is not None else None
                ) from None
            raise ProblemError(errors.unavailable) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> UpstreamResponse:
        remaining = self._remaining()
        if remaining <= 0:
            raise _Transient("timeout")
        started = time.perf_counter()
        try:
            async with self._upstream.session.request(
                method,
                self._upstream.url(path),
                params=params,
                json=json_body,
                data=content,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=remaining),
            ) as answer:
                response = UpstreamResponse(answer.status, answer.headers, await answer.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Transient(_failure_of(exc)) from None
        finally:
            spent = time.perf_counter() - started
            self.elapsed += spent
            UPSTREAM_SECONDS.labels(self._upstream.name).observe(spent)
        if response.status == 429:
            raise _Transient("rate_limited", response)
        if response.status >= 500:
            raise _Transient("status_5xx", response)
        return response

    def json(self, response: UpstreamResponse) -> Any:
        """The decoded body, or the provider's "unknown answer" error when it is not JSON."""
        try:
            return json.loads(response.content)
        except ValueError:
            UPSTREAM_ERRORS.labels(self._upstream.name, "invalid").inc()
            raise ProblemError(self.errors.unknown) from None

    def invalid(self) -> ProblemError:
        """The error to raise when an answer does not have the expected shape."""
        UPSTREAM_ERRORS.labels(self._upstream.name, "invalid").inc()
        return ProblemError(self.errors.unknown)
