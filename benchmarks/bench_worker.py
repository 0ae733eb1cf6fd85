"""A benchmark-only worker entry point: the production worker with one step made a no-op.

Never for production: replies of ``nosign`` carry no proof and ``nojournal`` writes no audit
row. It exists to measure what signing and the journal cost the path::

    python -m benchmarks.bench_worker --variant nosign --metrics-port 9200 cnav

Variants:

- ``full``: the production worker exactly, started from here (same code path as
  ``particulier worker``; the reference of the comparisons).
- ``nosign``: a :class:`NoopCertifier` serialises the reply with ``json.dumps`` instead of
  canonicalising and signing it, and the request hash (which only serves the proof) is a
  constant: what remains is what any unsigned reply would cost.
- ``nojournal``: a :class:`NoopJournal` commits nothing, and the journal-only work done in
  the worker (the subject's keyed pseudonym, the reply digest) is skipped.
- ``bare``: both.

``--loop uvloop`` runs the worker on uvloop's event loop instead of asyncio's (when uvloop is
installed): how much of the path's CPU is the event loop and its transports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from broker import registry
from broker.certification import Certifier, request_hash
from broker.journal import Journal, JournalEntry
from broker.runtime import Sealer, serving, until_signalled

__all__ = ["VARIANTS", "NoopCertifier", "NoopJournal", "main"]

VARIANTS = ("full", "nosign", "nojournal", "bare")
log = logging.getLogger("particulier.bench_worker")

_NO_HASH = "0" * 64


class NoopCertifier(Certifier):
    """Serialises replies without signing them."""

    def sign(self, reply: Mapping[str, Any], **_: Any) -> str:
        return ""

    def seal(self, reply: Mapping[str, Any], **_: Any) -> bytes:
        return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()


class NoopJournal(Journal):
    """Commits nothing: every ``record`` returns at once, nothing is ever replayed."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def record(self, entry: JournalEntry, reply: bytes) -> None:
        return None

    async def replay(self, requester: str, message_id: str) -> bytes | None:
        return None


async def run(
    variant: str,
    provider_names: list[str],
    metrics_port: int | None,
) -> None:
    """What :func:`broker.runtime.run` does, with the variant's no-ops injected."""
    providers = [registry.provider(n) for n in provider_names]
    no_journal = variant in ("nojournal", "bare")
    no_sign = variant in ("nosign", "bare")
    async with serving(
        providers,
        journal_of=NoopJournal if no_journal else Journal,
        certifier_of=NoopCertifier if no_sign else Certifier,
        hash_request=(lambda **_: _NO_HASH) if no_sign else request_hash,
    ) as worker:
        if no_journal:
            worker.sealer = Sealer(worker.certifier, digest=lambda _reply: _NO_HASH)
            worker.pipeline.pseudonym = lambda _subject: _NO_HASH
        await worker.start()
        await worker.serve_metrics(metrics_port)
        log.info("benchmark worker started: variant=%s", variant)
        await until_signalled()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, default="full")
    parser.add_argument("--metrics-port", type=int, default=None)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("providers", nargs="+")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aio_pika", "aiormq", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    main_coroutine = run(args.variant, args.providers, args.metrics_port)
    if args.loop == "uvloop":
        import uvloop

        log.info("bench worker: uvloop %s", getattr(uvloop, "__version__", "?"))
        uvloop.run(main_coroutine)
    else:
        asyncio.run(main_coroutine)


if __name__ == "__main__":
    main()
