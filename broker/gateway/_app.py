"""API Particulier's REST interface, served over the broker (``particulier gateway``).

An existing integration changes only its base URL: same paths, query parameters
(``prenoms[]``, ``recipient``), ``Authorization: Bearer`` (the agency's gateway token, or on a
``/france_connect`` route the citizen's FranceConnect token), ``Cache-Control``, statuses and
bodies. The gateway is an editor of the delegation model: it asks on the interactive lane for
the token's agency (``on_behalf_of``), so the agency's habilitations, scopes and rate limits
apply and the journal names both; in FranceConnect mode the token's FranceConnect client names
the agency. The reply's proof travels in response headers, so that an HTTP client can verify
it as an AMQP one does (docs/gateway.md).
"""

from __future__ import annotations

import base64
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from ..errors import BROKER, ErrorSpec
from ..sdk import Client, ReplyTimeout
from ..sdk.contract import Lane
from ._routes import Route, query_params
from ._tokens import TokenState, TokenStore

__all__ = ["Gateway"]

log = logging.getLogger("particulier.gateway")

MAX_QUERY = 4096
"""Bytes of query string accepted (``BROKER.QUERY_TOO_LONG``); API Particulier's parameters
fit in far less."""


_TOKEN_STATES = {
    TokenState.UNKNOWN: BROKER.TOKEN_INVALID,
    TokenState.EXPIRED: BROKER.TOKEN_EXPIRED,
    TokenState.REVOKED: BROKER.TOKEN_REVOKED,
}

REQUESTS = Counter(
    "particulier_gateway_requests_total",
    "HTTP requests answered by the gateway, by route and status.",
    ["route", "status"],
)
SECONDS = Histogram(
    "particulier_gateway_seconds",
    "Time from an HTTP request to its response.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def _problem(spec: ErrorSpec, parameter: str | None = None) -> web.Response:
    error = spec.error(parameter=parameter)
    error.setdefault("meta", {})
    return web.json_response({"errors": [error]}, status=spec.status)


@dataclass
class _Window:
    """The gateway's count of an agency's requests in the current minute (RateLimit-*)."""

    minute: int = 0
    used: int = 0


@dataclass
class Gateway:
    """The aiohttp application of the REST interface, asking through ``client`` (the
    gateway editor's connection)."""

    client: Client
    tokens: TokenStore
    routes: Mapping[str, Route]
    timeout: float = 30.0
    rights: Callable[[str], Awaitable[Mapping[str, Any]]] | None = None
    """The rights look-up of an agency (RateLimit-Limit); default: asked through ``client``."""
    _limits: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    _windows: dict[str, _Window] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/api/introspect", self._introspect)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        return app

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, _: web.Request) -> web.Response:
        ok = self.client.connected
        return web.json_response({"amqp": ok}, status=200 if ok else 503)

    async def _introspect(self, request: web.Request) -> web.Response:
        """API Particulier's ``/api/introspect``: what the token's agency may ask now."""
        agency, refused = await self._agency(request)
        if refused is not None:
            return refused
        assert agency is not None
        return web.json_response(await (self.rights or self._rights)(agency))

    async def _agency(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        """The agency of the request's bearer token, or the 401 that answers it."""
        bearer = _bearer(request)
        if bearer is None:
            return None, _problem(BROKER.TOKEN_INVALID, "token")
        state, agency = await self.tokens.agency_of(bearer)
        if state is not TokenState.VALID:
            return None, _problem(_TOKEN_STATES[state], "token")
        return agency, None

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        route = self.routes.get(request.path)
        label = route.path if route else "unknown"
        try:
            response = await self._answer(request, route)
        except Exception as exc:
            # the type only: a message or a traceback could quote a parameter (personal data)
            log.error("gateway failure: %s", type(exc).__name__)
            response = _problem(BROKER.INTERNAL)
        response.headers["X-Request-ID"] = request_id[:200]
        REQUESTS.labels(label, str(response.status)).inc()
        SECONDS.labels(label).observe(time.perf_counter() - started)
        return response

    async def _answer(self, request: web.Request, route: Route | None) -> web.Response:
        if route is None:
            return _problem(BROKER.ROUTE_UNKNOWN)
        if request.method not in ("GET", "HEAD"):
            return _problem(BROKER.METHOD_NOT_ALLOWED)
        if request.can_read_body:
            return _problem(BROKER.BODY_UNEXPECTED)
        if len(request.query_string.encode()) > MAX_QUERY:
            return _problem(BROKER.QUERY_TOO_LONG)
        agency: str | None = None
        bearer = _bearer(request)
        if route.france_connect:
            if bearer is None:
                return _problem(BROKER.TOKEN_INVALID, "token")
        else:
            agency, refused = await self._agency(request)
            if refused is not None:
                return refused
        recipient, params = query_params(request.query.items())
        no_cache = "no-cache" in request.headers.get("Cache-Control", "").lower()
        try:
            reply = await self.client.request(
                route.dataset,
                params,
                recipient=recipient or "",
                version=route.version,
                timeout=self.timeout,
                lane=Lane.INTERACTIVE,
                france_connect_token=bearer if route.france_connect else None,
                on_behalf_of=agency,
                agent=request.headers.get("X-Agent-Id") or None,
                no_cache=no_cache,
            )
        except ReplyTimeout:
            return _problem(BROKER.DEADLINE_EXPIRED)
        body: dict[str, Any]
        if reply.status == 200:
            body = {"data": reply.data, "links": {}, "meta": {}}
        else:
            body = {"errors": [_api_error(e.model_dump(mode="json")) for e in reply.body.errors]}
        response = web.json_response(body, status=reply.status)
        response.headers["Particulier-Proof"] = reply.body.proof or ""
        response.headers["Particulier-Reply"] = base64.urlsafe_b64encode(reply.raw).decode()
        if reply.retry_in is not None and reply.status in (429, 503, 504):
            response.headers["Retry-After"] = str(reply.retry_in)
        if agency is not None:
            await self._rate_headers(response, agency, route)
        return response

    async def _rate_headers(self, response: web.Response, agency: str, route: Route) -> None:
        """RateLimit-* as API Particulier sends them (requests per minute). The limit is the
        agency's habilitation's; the remaining count is the gateway's own count of the
        minute, which does not see the agency's requests over AMQP."""
        now = time.time()
        limit = await self._limit(agency, route.dataset, now)
        if limit is None:
            return
        minute = int(now // 60)
        window = self._windows.setdefault(agency, _Window())
        if window.minute != minute:
            window.minute, window.used = minute, 0
        window.used += 1
        per_minute = int(limit * 60)
        response.headers["RateLimit-Limit"] = str(per_minute)
        response.headers["RateLimit-Remaining"] = str(max(0, per_minute - window.used))
        response.headers["RateLimit-Reset"] = str((minute + 1) * 60)

    async def _limit(self, agency: str, dataset: str, now: float) -> float | None:
        """The agency's interactive rate for ``dataset`` (per second), looked up each minute."""
        key = f"{agency}\0{dataset}"
        known = self._limits.get(key)
        if known is not None and now - known[0] < 60:
            return known[1]
        rate: float | None = None
        try:
            rights = await (self.rights or self._rights)(agency)
            for entry in rights.get("agencies", ()):
                for habilitation in entry.get("habilitations", ()):
                    if dataset in habilitation.get("datasets", {}):
                        found = habilitation["lanes"]["interactive"]["rate_per_second"]
                        rate = math.inf if found is None else float(found)
        except Exception:
            log.warning("rights of an agency not read: no RateLimit headers")
        chosen = None if rate is None or math.isinf(rate) else rate
        self._limits[key] = (now, chosen)
        return chosen

    async def _rights(self, agency: str) -> Mapping[str, Any]:
        reply = await self.client.rights(on_behalf_of=agency)
        return reply.data or {}


def _bearer(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if the header says that."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _api_error(error: dict[str, Any]) -> dict[str, Any]:
    """An error object as API Particulier's REST answers carry it (``meta`` always there)."""
    error.setdefault("source", None)
    error.setdefault("meta", {})
    return error
