"""Sealing, ``answer -> reply bytes + journal entry``: one path for fresh and replayed answers.

A fresh answer is signed into a reply; a replayed one (a request already answered) is the reply
the journal kept, unchanged. Either way the journal entry is made here, from the request and
the reply, so that every disclosure has the same row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..certification import Certifier, reply_digest
from ..errors import BROKER, ProblemError
from ..journal import JournalEntry, agent_pseudonym
from ..sdk.proof import sealed_request_hash
from ._pipeline import Answer
from ._request import Request

__all__ = ["Sealed", "Sealer"]


def _agent(request: Request, agency: str | None) -> str | None:
    """The keyed hash of the agent the request names, once its agency is known."""
    agent = request.body.agent if request.body else None
    return agent_pseudonym(agency, agent) if agent and agency else None


@dataclass(frozen=True, slots=True)
class Sealed:
    """A reply ready to leave, and the journal row that must be committed before it does."""

    reply: bytes
    entry: JournalEntry


@dataclass
class Sealer:
    certifier: Certifier
    digest: Callable[[bytes], str] = field(default=reply_digest)

    def seal(self, request: Request, answer: Answer) -> Sealed:
        """Sign a fresh answer."""
        dataset = answer.dataset
        issued = datetime.now(UTC)
        dataset_id = dataset.id if dataset else request.dataset_id
        scopes = answer.disclosed_scopes
        reply: dict[str, Any] = {
            "status": answer.status,
            "data": answer.data,
            "errors": list(answer.errors),
            "meta": {
                "request_id": request.message_id,
                "dataset": dataset_id,
                "version": dataset.version if dataset else None,
                "provider": answer.provider_label,
                "issued_at": issued.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "scopes": list(scopes) if answer.grant and answer.data else None,
                **answer.meta,
            },
        }
        sealed = self.certifier.seal(
            reply, dataset=dataset_id, request_hash=request.digest, issued_at=issued
        )
        grant = answer.grant
        upstream = answer.upstream_seconds
        return self._sealed(
            request,
            sealed,
            agency=grant.agency if grant else None,
            habilitation_id=grant.habilitation_id if grant else None,
            recipient=request.body.recipient if request.body else None,
            dataset=dataset_id if dataset else None,
            version=dataset.version if dataset else None,
            scopes=scopes,
            status=answer.status,
            error_code=answer.code,
            upstream_latency_ms=upstream * 1000 if upstream is not None else None,
            cached=answer.cached,
            subject=answer.subject,
            editor=grant.editor if grant else None,
            agent=_agent(request, grant.agency if grant else None),
        )

    def replay(self, request: Request, saved: bytes) -> Sealed:
        """The reply already journaled for this ``message_id``, sent again: a new disclosure
        with a row of its own. A copy asking something else under the same ``message_id`` is
        refused instead."""
        if sealed_request_hash(saved) not in (request.digest, None):
            reused = ProblemError(BROKER.MESSAGE_ID_REUSED, parameter="message_id")
            return self.seal(request, Answer.problem(reused))
        reply = json.loads(saved)
        meta = reply.get("meta") or {}
        errors = reply.get("errors") or []
        return self._sealed(
            request,
            saved,
            agency=None,
            habilitation_id=None,
            recipient=None,
            dataset=meta.get("dataset"),
            version=meta.get("version"),
            scopes=tuple(meta.get("scopes") or ()),
            status=int(reply.get("status", 0)),
            error_code=str(errors[0]["code"]) if errors else None,
            upstream_latency_ms=None,
            cached=True,
            subject=None,
        )

    def _sealed(self, request: Request, reply: bytes, **answered: Any) -> Sealed:
        entry = JournalEntry(
            at=datetime.now(UTC),
            message_id=request.message_id,
            correlation_id=request.correlation_id,
            requester=request.requester,
            lane=request.lane.value,
            reply_digest=self.digest(reply),
            **answered,
        )
        return Sealed(reply, entry)
