"""The worker's pipeline without RabbitMQ or PostgreSQL: an in-memory harness.

It runs the very :class:`~broker.runtime.Pipeline` and :class:`~broker.runtime.Sealer` a
worker runs, against the providers' simulators over local HTTP, with habilitations given as a
table and the journal kept in a list. Replies are signed with a fresh key and checked with its
JWKS, as an agency checks them. For unit tests of datasets and for an integrator's own tests
(``docs/integration.md``, "Testing without a broker"); the integration, fault and conformance
suites stay on the real RabbitMQ and PostgreSQL.

>>> async with Harness({"agency": {"cnav.quotient_familial": ["cnaf_quotient_familial"]}}) as h:
...     reply = await h.request("cnav.quotient_familial", params, recipient=SIRET)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from .. import registry
from ..certification import Certifier, KeyRing
from ..errors import BROKER, ProblemError
from ..habilitations import Grant
from ..journal import JournalEntry
from ..kit import Upstream
from ..runtime import Pipeline, Sealer, read_request
from ..sdk.contract import DEADLINE_HEADER, Lane, Mode, ReplyBody
from ..sdk.proof import Verifier
from ._population import Population
from ._providers import context, serve_simulators

__all__ = ["GrantTable", "Harness"]

SIRET = "13002526500013"
"""A valid SIRET (DINUM's) to send as ``recipient`` in tests."""


class GrantTable:
    """Habilitations as a table: requester -> dataset id -> granted scopes (no rate limit)."""

    def __init__(self, grants: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        self._grants = {r: {d: frozenset(s) for d, s in by.items()} for r, by in grants.items()}

    def rights(self, requester: str, on_behalf_of: str | None = None) -> dict[str, Any]:
        """The table's rows of ``requester`` (or of the agency named), as the rights look-up
        shows them."""
        asking = on_behalf_of or requester
        datasets = {d: sorted(s) for d, s in self._grants.get(asking, {}).items()}
        return {
            "requester": requester,
            "editor": None,
            "agencies": [
                {"name": asking, "siret": SIRET, "habilitations": [{"id": 1, "datasets": datasets}]}
            ],
        }

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
    ) -> Grant:
        """Both modes, any FranceConnect client: the table says only who may see what; a
        request on behalf of an agency is asked as that agency (no delegation to check)."""
        asking = on_behalf_of or requester
        scopes = self._grants.get(asking, {}).get(dataset, frozenset()) & set(dataset_scopes)
        if not scopes:
            raise ProblemError(BROKER.FORBIDDEN)
        return Grant(
            agency=asking,
            agency_siret=SIRET,
            habilitation_id=1,
            scopes=scopes,
            legal_basis="harness",
        )


class Harness:
    """One in-memory worker for every provider (or ``providers``)."""

    def __init__(
        self,
        grants: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        *,
        providers: Sequence[str] | None = None,
        population: Population | None = None,
        with_staging_cases: bool = True,
    ) -> None:
        names = list(providers) if providers is not None else list(registry.providers())
        self.providers = {n: registry.provider(n) for n in names}
        self.grants = GrantTable(grants if grants is not None else _everything(self.providers))
        self.context = context(population or Population(1_000_000), staging=with_staging_cases)
        keyring = KeyRing.generate()
        self.jwks = keyring.jwks()
        self._verifier = Verifier(self.jwks)
        self.sealer = Sealer(Certifier(keyring))
        self.journal: list[JournalEntry] = []
        """Every row the worker would have committed, in order."""
        self._runner: web.AppRunner | None = None
        self.pipeline: Pipeline | None = None

    async def __aenter__(self) -> Harness:
        self._runner = await serve_simulators(self.context, names=list(self.providers))
        base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        upstreams = {
            n: Upstream(n, f"{base}/{n}/", p.errors, timeout=p.upstream_timeout)
            for n, p in self.providers.items()
        }
        self.pipeline = Pipeline(self.providers, self.grants, upstreams)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.pipeline is not None:
            for upstream in self.pipeline.upstreams.values():
                await upstream.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    async def request(
        self,
        dataset: str,
        params: Mapping[str, Any],
        *,
        recipient: str = SIRET,
        requester: str = "agency",
        version: int | None = None,
        lane: Lane = Lane.INTERACTIVE,
        deadline: float = 10.0,
    ) -> ReplyBody:
        """Ask as ``requester`` would over AMQP; the reply's proof is checked before it is
        returned, and its journal row appended to :attr:`journal`."""
        assert self.pipeline is not None, "use the harness as an async context manager"
        body: dict[str, Any] = {"dataset": dataset, "recipient": recipient, "params": dict(params)}
        if version is not None:
            body["version"] = version
        message_id = uuid.uuid4().hex
        request = read_request(
            body=json.dumps(body).encode(),
            message_id=message_id,
            correlation_id=message_id,
            requester=requester,
            reply_queue=f"reply.{requester}.harness",
            lane=lane,
            headers={DEADLINE_HEADER: int((time.time() + deadline) * 1000)},
            default_deadline=deadline,
        )
        sealed = self.sealer.seal(request, await self.pipeline.answer(request))
        self.journal.append(sealed.entry)
        reply = json.loads(sealed.reply)
        self._verifier.verify(reply, request_hash=request.digest)
        return ReplyBody.model_validate(reply)


def _everything(providers: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    return {
        "agency": {d.id: list(d.scopes) for p in providers.values() for d in p.datasets},
    }
