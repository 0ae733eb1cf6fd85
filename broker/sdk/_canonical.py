"""RFC 8785 (JCS) canonical JSON, the request hash and the journal digest.

The ``rfc8785`` package is the reference but is pure Python (~100 µs for a 1.5 KB reply), more
than the whole signing budget. For the common case the C ``json`` encoder produces the very same
bytes, so :func:`canonical` takes that path when it can prove equality and falls back to
``rfc8785`` otherwise. Both produce identical output whenever the tree holds only ``dict`` with
``str`` keys, ``list``/``tuple``, ``str``, ``bool``, ``None``, ``int`` within ±(2^53-1) and
non-integral ``float`` of magnitude in [1e-4, 1e16), and no key contains a character at or above
U+E000:

- string escaping: ``json`` with ``ensure_ascii=False`` and RFC 8785 escape the same set
  (``"``, ``\\``, controls below U+0020, ``\\b\\f\\n\\r\\t`` short forms, lowercase ``\\u00xx``);
- integers print alike. Floats print alike (the shortest round-tripping digits, which both
  ``repr`` and ECMAScript choose) except where ``repr`` writes ``.0`` (``1.0`` vs ``1``) or an
  exponent (below 1e-4, from 1e16), hence the float range;
- ``sort_keys`` orders by code point, RFC 8785 by UTF-16 code unit: the two differ only between
  a character of U+E000..U+FFFF and one above U+FFFF, hence the (broader, cheaper) key check;
- lone surrogates make the UTF-8 encoding fail, and the fallback raises on them too.

``tests/unit/test_certification.py`` fuzzes the two paths against each other.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import rfc8785

from ._reasons import MALFORMED, CertificationError

_INT_MAX = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def _fast_path_is_exact(obj: Any) -> bool:
    """True when ``json`` with sorted keys yields exactly RFC 8785 for ``obj`` (see above)."""
    stack = [obj]
    pop = stack.pop
    extend = stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is str or node is None or kind is bool:
            continue
        if kind is dict:
            for key in node:
                if type(key) is not str or (not key.isascii() and max(key) >= "\ue000"):
                    return False
            extend(node.values())
        elif kind is list or kind is tuple:
            extend(node)
        elif kind is int:
            if not -_INT_MAX <= node <= _INT_MAX:
                return False
        elif kind is float:
            if node.is_integer() or not 1e-4 <= abs(node) < 1e16:
                return False
        else:
            return False
    return True


def canonical(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value; ``malformed`` if not I-JSON."""
    try:
        if _fast_path_is_exact(obj):
            try:
                return _encode(obj).encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: let the reference implementation reject it
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError):
        raise CertificationError(MALFORMED) from None


def request_hash(
    *,
    dataset: str,
    version: int | None,
    params: Mapping[str, Any],
    recipient: str | None,
    message_id: str,
    requester: str,
    france_connect_token: str | None = None,
    on_behalf_of: str | None = None,
    agent: str | None = None,
) -> str:
    """Lowercase hex SHA-256 of the canonical request: binds a reply to what was asked, by whom.

    ``requester`` is the AMQP ``user_id`` RabbitMQ validated, so a reply cannot be passed off
    as the answer to another agency's request. A request in FranceConnect mode is bound to the
    SHA-256 of its token (member ``france_connect_token_sha256``), never to the token itself;
    an editor's request also to the agency it acts for (``on_behalf_of``) and the agent
    (``agent``), members present only when given, so that other requests hash as before.
    """
    body = {
        "dataset": dataset,
        "version": version,
        "params": dict(params),
        "recipient": recipient,
        "message_id": message_id,
        "requester": requester,
    }
    if france_connect_token is not None:
        token = france_connect_token.encode("utf-8", "surrogatepass")
        body["france_connect_token_sha256"] = hashlib.sha256(token).hexdigest()
    if on_behalf_of is not None:
        body["on_behalf_of"] = on_behalf_of
    if agent is not None:
        body["agent"] = agent
    return hashlib.sha256(canonical(body)).hexdigest()


def reply_digest(reply: bytes) -> str:
    """``sha256:<hex>`` of the reply bytes as published: the journal's handle on a reply."""
    return "sha256:" + hashlib.sha256(reply).hexdigest()


def b64url(data: bytes) -> bytes:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url`: padding, ``+`` and ``/`` are rejected."""
    if "=" in text or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data).decode("ascii") != text:
        raise ValueError("not base64url")
    return data
