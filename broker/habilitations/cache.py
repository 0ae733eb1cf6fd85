"""The workers' view of habilitations: an in-memory copy, refreshed in the background.

``authorize`` reads only memory, except for the shared rate-limit bucket of a habilitation that
has a limit on the lane. A background task polls a revision counter (bumped by triggers on
every change) every ``refresh_seconds`` and reloads on change, so a revocation takes effect
within that delay without a restart; validity dates are checked against the clock on each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from ..db.pool import is_unavailable
from ..errors import BROKER, ProblemError
from ..sdk.contract import Lane, Mode
from .ratelimit import RateLimiter

__all__ = ["Grant", "Habilitations", "HabilitationsUnavailable"]

log = logging.getLogger(__name__)

_FULL_RELOAD_SECONDS = 60.0

_LOAD = """
SELECT h.id, a.name AS agency, a.siret, a.rabbitmq_user, h.legal_basis, h.legal_reference,
       h.valid_from, h.valid_until, h.revoked_at, h.rate_interactive, h.rate_bulk, h.modes,
       array_agg(s.dataset) AS datasets, array_agg(s.scope) AS scopes
FROM habilitations h
JOIN agencies a ON a.id = h.agency_id
JOIN habilitation_scopes s ON s.habilitation_id = h.id
WHERE (h.revoked_at IS NULL OR h.revoked_at > now())
  AND (h.valid_until IS NULL OR h.valid_until > now())
GROUP BY h.id, a.id
"""
_LOAD_DELEGATIONS = """
SELECT e.rabbitmq_user AS editor_user, e.name AS editor, a.rabbitmq_user AS agency_user,
       a.name AS agency, a.siret
FROM editors e
LEFT JOIN delegations d ON d.editor_id = e.id AND (d.revoked_at IS NULL OR d.revoked_at > now())
LEFT JOIN agencies a ON a.id = d.agency_id
"""
_LOAD_CLIENTS = """
SELECT a.rabbitmq_user, array_agg(c.client_id) AS clients
FROM france_connect_clients c JOIN agencies a ON a.id = c.agency_id
GROUP BY a.rabbitmq_user
"""


class HabilitationsUnavailable(RuntimeError):
    """Habilitations were never loaded (PostgreSQL unreachable at start, or not started)."""


@dataclass(frozen=True)
class Grant:
    """What the requester may see of one dataset, and under which habilitation."""

    agency: str
    agency_siret: str
    habilitation_id: int
    scopes: frozenset[str]
    """The granted scopes of this dataset (never empty)."""
    legal_basis: str | None
    legal_reference: str | None = None
    editor: str | None = None
    """The editor that asked for the agency, under a delegation."""


@dataclass(frozen=True)
class _Habilitation:
    id: int
    agency: str
    siret: str
    legal_basis: str
    legal_reference: str
    valid_from: float
    valid_until: float
    revoked_at: float
    rates: Mapping[str, float | None]
    scopes: Mapping[str, frozenset[str]]
    modes: frozenset[str]

    def valid_at(self, now: float) -> bool:
        return self.valid_from <= now < self.valid_until and now < self.revoked_at


def _epoch(value: datetime | None, default: float) -> float:
    return default if value is None else value.timestamp()


def _habilitation(row: asyncpg.Record) -> _Habilitation:
    scopes: dict[str, set[str]] = {}
    for dataset, scope in zip(row["datasets"], row["scopes"], strict=True):
        scopes.setdefault(dataset, set()).add(scope)
    return _Habilitation(
        id=row["id"],
        agency=row["agency"],
        siret=row["siret"],
        legal_basis=row["legal_basis"],
        legal_reference=row["legal_reference"],
        valid_from=_epoch(row["valid_from"], -math.inf),
        valid_until=_epoch(row["valid_until"], math.inf),
        revoked_at=_epoch(row["revoked_at"], math.inf),
        rates={Lane.INTERACTIVE.value: row["rate_interactive"], Lane.BULK.value: row["rate_bulk"]},
        scopes={d: frozenset(s) for d, s in scopes.items()},
        modes=frozenset(row["modes"]),
    )


def _instant(epoch: float) -> str | None:
    if math.isinf(epoch):
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rights_of(habilitation: _Habilitation) -> dict[str, Any]:
    return {
        "id": habilitation.id,
        "legal_basis": habilitation.legal_basis,
        "legal_reference": habilitation.legal_reference,
        "valid_from": _instant(habilitation.valid_from),
        "valid_until": _instant(min(habilitation.valid_until, habilitation.revoked_at)),
        "modes": sorted(habilitation.modes),
        "lanes": {lane: {"rate_per_second": rate} for lane, rate in habilitation.rates.items()},
        "datasets": {d: sorted(s) for d, s in sorted(habilitation.scopes.items())},
    }


class Habilitations:
    """Authorises requests against the habilitations of the requester's agency."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._by_user: dict[str, tuple[_Habilitation, ...]] = {}
        self._france_connect_clients: dict[str, frozenset[str]] = {}
        self._editors: dict[str, str] = {}
        """Editors' RabbitMQ users -> their names."""
        self._agencies: dict[str, tuple[str, str]] = {}
        """Agencies' RabbitMQ users -> their name and SIRET (those with a habilitation or a
        delegation in force)."""
        self._delegated: dict[str, dict[str, tuple[str, ...]]] = {}
        """An editor's user -> the name and the SIRET of each agency it may act for -> the
        RabbitMQ users of the agencies so named (more than one: ambiguous, refused)."""
        self._revision: int | None = None
        self._loaded_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stale = False
        self.limiter = RateLimiter(pool)

    async def start(self) -> None:
        """Load habilitations, then keep them fresh; raises if the first load fails."""
        try:
            await self.refresh(force=True)
        except Exception as exc:
            if is_unavailable(exc):
                raise HabilitationsUnavailable("habilitations could not be loaded") from None
            raise
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_loop(), name="habilitations-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def refresh(self, *, force: bool = False) -> bool:
        """Reload when something changed (or ``force``); True when reloaded."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            revision = await conn.fetchval("SELECT revision FROM habilitations_revision")
            due = time.monotonic() - self._loaded_at >= _FULL_RELOAD_SECONDS
            if not force and not due and revision == self._revision:
                return False
            rows = await conn.fetch(_LOAD)
            clients = await conn.fetch(_LOAD_CLIENTS)
            delegations = await conn.fetch(_LOAD_DELEGATIONS)
        by_user: dict[str, list[_Habilitation]] = {}
        for row in rows:
            by_user.setdefault(row["rabbitmq_user"], []).append(_habilitation(row))
        self._by_user = {user: tuple(habs) for user, habs in by_user.items()}
        self._france_connect_clients = {
            r["rabbitmq_user"]: frozenset(r["clients"]) for r in clients
        }
        editors: dict[str, str] = {}
        delegated: dict[str, dict[str, tuple[str, ...]]] = {}
        agencies = {row["rabbitmq_user"]: (row["agency"], row["siret"]) for row in rows}
        for row in delegations:
            editors[row["editor_user"]] = row["editor"]
            names = delegated.setdefault(row["editor_user"], {})
            if row["agency_user"] is not None:
                agencies[row["agency_user"]] = (row["agency"], row["siret"])
                for key in {row["agency"], row["siret"]}:
                    names[key] = (*names.get(key, ()), row["agency_user"])
        self._editors, self._delegated, self._agencies = editors, delegated, agencies
        self._revision = revision
        self._loaded_at = time.monotonic()
        return True

    def _client_agency(self, editor: str, france_connect_client: str | None) -> str | None:
        """The name of the agency, among those that delegated to ``editor``, whose
        FranceConnect client obtained the token: in FranceConnect mode the token names the
        agency, as on API Particulier's ``/france_connect`` routes."""
        delegated = {u for named in self._delegated.get(editor, {}).values() for u in named}
        owners = [
            user
            for user in delegated
            if france_connect_client in self._france_connect_clients.get(user, frozenset())
        ]
        return self._agencies[owners[0]][0] if len(owners) == 1 else None

    def acting_for(self, requester: str, on_behalf_of: str | None) -> tuple[str, str | None]:
        """``(the RabbitMQ user of the agency the request is for, the editor asking)``.

        An editor names the agency in ``on_behalf_of`` (its name or SIRET) and must hold a
        current delegation from it; anybody else asks for its own agency only."""
        editor = self._editors.get(requester)
        if editor is None:
            if on_behalf_of is not None:
                raise ProblemError(BROKER.NOT_DELEGATED, parameter="on_behalf_of")
            return requester, None
        if on_behalf_of is None:
            raise ProblemError(BROKER.AGENCY_NOT_NAMED, parameter="on_behalf_of")
        agencies = self._delegated.get(requester, {}).get(on_behalf_of, ())
        if len(agencies) != 1:
            raise ProblemError(BROKER.NOT_DELEGATED, parameter="on_behalf_of")
        return agencies[0], editor

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:
                if not self._stale:
                    self._stale = True
                    log.warning(
                        "habilitations not refreshed (%s): serving the last copy",
                        type(exc).__name__,
                    )
            else:
                if self._stale:
                    self._stale = False
                    log.warning("habilitations refreshed again")

    def rights(self, requester: str, on_behalf_of: str | None = None) -> dict[str, Any]:
        """What ``requester`` may ask now, as API Particulier's ``/api/introspect`` says: for
        its agency (an editor: for each agency that delegated to it, or the one it names),
        each habilitation in force with its legal basis, validity, modes, lanes with their
        rate limits, datasets and scopes."""
        if self._revision is None:
            raise HabilitationsUnavailable("Habilitations.start() was not awaited")
        editor = self._editors.get(requester)
        if editor is not None and on_behalf_of is None:
            delegated = self._delegated.get(requester, {}).values()
            users = sorted({user for named in delegated for user in named})
        else:
            users = [self.acting_for(requester, on_behalf_of)[0]]
        now = self._clock()
        agencies = []
        for user in users:
            name, siret = self._agencies.get(user, (None, None))
            held = [h for h in self._by_user.get(user, ()) if h.valid_at(now)]
            agencies.append(
                {
                    "name": name,
                    "siret": siret,
                    "france_connect_clients": len(self._france_connect_clients.get(user, ())),
                    "habilitations": [_rights_of(h) for h in sorted(held, key=lambda h: h.id)],
                }
            )
        return {"requester": requester, "editor": editor, "agencies": agencies}

    async def authorize(
        self,
        *,
        requester: str,
        dataset: str,
        dataset_scopes: Collection[str],
        lane: str,
        mode: Mode = Mode.IDENTITY,
        france_connect_client: str | None = None,
        on_behalf_of: str | None = None,
    ) -> Grant:
        """The grant of ``requester`` on ``dataset`` for a request on ``lane`` in ``mode``; an
        editor's, of the agency it names in ``on_behalf_of`` (:meth:`acting_for`; in
        FranceConnect mode, by default the agency whose client obtained the token), whose rate
        limits count it.

        Raises ``ProblemError(BROKER.FORBIDDEN)`` when no valid habilitation allowing ``mode``
        holds a scope of the dataset, or, in FranceConnect mode, when the token was obtained by
        a FranceConnect client that is not one of the requester's agency;
        ``ProblemError(BROKER.RATE_LIMITED, retry_in=...)`` over the rate limit. When several
        habilitations qualify, the one granting the most scopes serves.
        """
        if self._revision is None:
            raise HabilitationsUnavailable("Habilitations.start() was not awaited")
        if on_behalf_of is None and mode is Mode.FRANCE_CONNECT and requester in self._editors:
            on_behalf_of = self._client_agency(requester, france_connect_client)
        requester, editor = self.acting_for(requester, on_behalf_of)
        lane = Lane(lane).value
        now = self._clock()
        wanted = (
            dataset_scopes
            if isinstance(dataset_scopes, frozenset | set)
            else frozenset(dataset_scopes)
        )
        best: _Habilitation | None = None
        best_scopes: frozenset[str] = frozenset()
        if mode is Mode.FRANCE_CONNECT and france_connect_client not in (
            self._france_connect_clients.get(requester, frozenset())
        ):
            raise ProblemError(BROKER.FORBIDDEN)
        for habilitation in self._by_user.get(requester, ()):
            held = habilitation.scopes.get(dataset)
            if held is None or mode not in habilitation.modes or not habilitation.valid_at(now):
                continue
            granted = held & wanted
            if len(granted) > len(best_scopes) or (
                best is not None
                and len(granted) == len(best_scopes)
                and granted
                and habilitation.id < best.id
            ):
                best, best_scopes = habilitation, granted
        if best is None or not best_scopes:
            raise ProblemError(BROKER.FORBIDDEN)
        rate = best.rates[lane]
        if rate is not None:
            wait = await self.limiter.take(best.id, lane, rate)
            if wait > 0:
                raise ProblemError(BROKER.RATE_LIMITED, retry_in=max(1, math.ceil(wait)))
        return Grant(
            agency=best.agency,
            agency_siret=best.siret,
            habilitation_id=best.id,
            scopes=best_scopes,
            legal_basis=best.legal_basis,
            legal_reference=best.legal_reference,
            editor=editor,
        )
