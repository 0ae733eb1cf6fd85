"""A provider's upstream endpoint, declared once for the worker and for the simulator.

A declaration says how parameters become one upstream request, where the upstream's answer
keeps its record and its error code, how the record is renamed and validated, and which
upstream codes answer which error. The worker's fetch and the simulator's answers both derive
from it, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ErrorSpec, ProblemError, ProviderErrors
from ._renaming import Record, Renaming

if TYPE_CHECKING:
    from ._upstream import UpstreamCall, UpstreamResponse

__all__ = ["Answer", "Endpoint", "Envelope", "Refusal", "UpstreamRequest"]

P = TypeVar("P")

Answer = tuple[int, dict[str, Any]]
"""An upstream HTTP answer: status and JSON body."""

Refusal = ErrorSpec | tuple[ErrorSpec, str]
"""The error answered for an upstream's error code, with the parameter it names if any."""


@dataclass(frozen=True)
class UpstreamRequest:
    """One upstream request, as the worker sends it and as the simulator reads it back."""

    method: str
    path: str
    query: Mapping[str, str] | None = None
    body: Any = None
    """A JSON body."""
    content: bytes | None = None
    """A body in another format (the SIV's SOAP), sent with ``headers``."""
    headers: Mapping[str, str] | None = None

    def key(self) -> str:
        """A stable text of the request: the simulator finds the case it stands for by it."""
        parts: list[Any] = [self.method, self.path]
        if self.query is not None:
            parts.append(dict(self.query))
        if self.body is not None:
            parts.append(self.body)
        if self.content is not None:
            parts.append(self.content.decode(errors="replace"))
        return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Envelope:
    """Where an upstream answer keeps its record and its error code.

    With ``ok``, the upstream always sends a code and the code decides: a 200 holding ``ok``
    is a success, any other code is looked up whatever the status. Without it, the status
    decides: a 200 is the record; with ``strict``, a 200 that carries an error is no answer at
    all (the provider's unknown answer), never the error it names.
    """

    record: str | None = None
    """The key holding the record in a success, or ``None`` when the record is the body."""
    error: str = "code"
    """Where the error code is: a key, or keys and list indices joined by dots
    (``erreurs.0.code``); a body carries an error when the first key holds a value."""
    ok: str | None = None
    """The code that marks a success, for upstreams that always send one."""
    strict: bool = False

    def code_of(self, body: Mapping[str, Any]) -> str | None:
        node: Any = body
        for part in self.error.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, Mapping):
                node = node.get(part)
            else:
                return None
        return None if node is None else str(node)

    def carries_error(self, body: Mapping[str, Any]) -> bool:
        return body.get(self.error.split(".", 1)[0]) is not None

    def record_of(self, body: Mapping[str, Any]) -> Any:
        return body.get(self.record) if self.record else body

    def wrap(self, record: Any) -> dict[str, Any]:
        """A success's body holding ``record`` (the simulator's side)."""
        body: dict[str, Any] = {self.record: record} if self.record else dict(record)
        if self.ok is not None:
            body.update(self.failure_body(self.ok))
        return body

    def failure_body(self, code: str) -> dict[str, Any]:
        """The smallest body holding ``code`` where :meth:`code_of` reads it."""
        value: Any = code
        for part in reversed(self.error.split(".")):
            value = [value] if part.isdigit() else {part: value}
        return dict(value)


@dataclass(frozen=True)
class Endpoint(Generic[P]):
    """One upstream endpoint serving one dataset (in one version)."""

    request: Callable[[P], UpstreamRequest]
    """Parameters -> the upstream request."""
    record: Record
    """The dataset's data, which a decoded record must fit, and its renaming (from the
    dataset's declaration, see :mod:`broker.kit._declaration`)."""
    errors: Mapping[str, Refusal]
    """Upstream error code -> the error answered; any other failure is the provider's unknown
    answer (transport failures, 5xx and 429 are handled by :class:`UpstreamCall`)."""
    envelope: Envelope = field(default_factory=Envelope)

    @property
    def data(self) -> type[BaseModel]:
        return self.record.model

    @property
    def renaming(self) -> Renaming:
        return self.record.renaming

    async def fetch(self, call: UpstreamCall, params: P) -> dict[str, Any]:
        """Call the upstream and return the data in API Particulier's shape (unmasked)."""
        return self.decode(call, await self.record_of(call, params))

    async def record_of(self, call: UpstreamCall, params: P) -> Any:
        """The upstream's record for ``params``, as it sends it; its refusals raised as the
        errors they answer."""
        sent = self.request(params)
        response = await call.request(
            sent.method,
            sent.path,
            params=sent.query,
            json_body=sent.body,
            content=sent.content,
            headers=sent.headers,
        )
        body = self.body_of(call, response)
        if not isinstance(body, dict):
            raise call.invalid()
        envelope, status = self.envelope, response.status
        code = envelope.code_of(body)
        if envelope.ok is not None:
            if status == 200 and code == envelope.ok:
                return envelope.record_of(body)
        elif status == 200:
            if envelope.strict and envelope.carries_error(body):
                raise call.invalid()
            return envelope.record_of(body)
        refusal = self.errors.get(code) if code is not None else None
        if refusal is None:
            raise call.invalid()
        if isinstance(refusal, tuple):
            raise ProblemError(refusal[0], parameter=refusal[1])
        raise ProblemError(refusal)

    def body_of(self, call: UpstreamCall, response: UpstreamResponse) -> Any:
        """The answer's body read: JSON, unless the upstream speaks something else."""
        return call.json(response)

    def decode(self, call: UpstreamCall, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise call.invalid()
        try:
            data: dict[str, Any] = self.renaming.decode(record)
            self.data.model_validate(data)
        except (TypeError, ValidationError):
            raise call.invalid() from None
        return data

    def reply_meta(self, params: P, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the reply's ``meta`` says beside ``data``: nothing, unless a provider's
        answer carries more than data (ANTS's identity matching)."""
        return {}

    def success(self, data: Mapping[str, Any]) -> Answer:
        """The upstream's 200 answer carrying ``data`` (API-shaped): the simulator's side."""
        return 200, self.envelope.wrap(self.renaming.encode(data))

    def failure(self, status: int, code: str, **extra: Any) -> Answer:
        """An upstream error answer holding ``code`` where the envelope reads it."""
        return status, {**self.envelope.failure_body(code), **extra}

    def failures(self, errors: ProviderErrors, **quirks: Answer) -> dict[str, Answer]:
        """The upstream answer standing for each kind of a staging case's failure (``not_found``,
        ``timeout``, ``unavailable``, ``rate_limited``, ``unknown``, ``code:<broker code>``),
        derived from this declaration so that the simulator says what the worker reads: a
        refusal of the error table with the upstream code mapped to it, a transient failure
        with its status, the unknown answer with a code the table lacks. An upstream that
        always sends a code sends it with a 200. ``quirks`` are a provider's own answers (an
        empty list for nobody found, say)."""
        answers = {
            "timeout": self.failure(504, "DELAI_DEPASSE"),
            "unavailable": self.failure(503, "SERVICE_INDISPONIBLE"),
            "rate_limited": self.failure(429, "QUOTA_DEPASSE"),
            "unknown": self.failure(409, "ETAT_INCOHERENT"),
        }
        for code, refusal in self.errors.items():
            spec = refusal[0] if isinstance(refusal, tuple) else refusal
            kind = "not_found" if spec.code == errors.not_found.code else f"code:{spec.code}"
            status = 200 if self.envelope.ok is not None else spec.status
            answers.setdefault(kind, self.failure(status, code))
        return {**answers, **quirks}
