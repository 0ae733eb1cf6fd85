"""``particulier worker --processes N``: one asyncio worker uses one core, so one command runs
N of them, keeps them running and stops them together.

Each child is ``particulier worker ... --processes 1`` with a metrics port of its own (the
base port + its index). A child that exits unasked is started again (after 1 s, doubling up
to 30 s while it keeps failing); SIGTERM or SIGINT is passed to every child, which drains
its requests (30 s) before exiting; a child whose parent dies gets SIGTERM (Linux
``PR_SET_PDEATHSIG``), so that no worker outlives its command.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["cores", "supervise", "worker_argv"]

log = logging.getLogger("particulier.worker")

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.2
_FIRST_PAUSE, _LAST_PAUSE = 1.0, 30.0
_STEADY_SECONDS = 60.0
"""A child that ran this long before exiting is restarted after the first pause again."""


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


@dataclass
class _Child:
    index: int
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    pause: float = _FIRST_PAUSE
    restart_at: float | None = None

    def start(self) -> None:
        parent = os.getpid()
        self.process = subprocess.Popen(self.argv, preexec_fn=lambda: _die_with_parent(parent))
        self.started = time.monotonic()
        self.restart_at = None
        log.info("worker process %d started (pid %d)", self.index, self.process.pid)


def supervise(commands: Sequence[Sequence[str]]) -> None:
    """Run each command as a child until SIGTERM or SIGINT."""
    stopping: list[int] = []

    def stop(signum: int, _: object) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    children = [_Child(i, list(argv)) for i, argv in enumerate(commands)]
    try:
        for child in children:
            child.start()
        while not stopping:
            time.sleep(_POLL_SECONDS)
            for child in children:
                _look_after(child)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stop(children, stopping[0] if stopping else signal.SIGTERM)


def _look_after(child: _Child) -> None:
    now = time.monotonic()
    if child.restart_at is not None:
        if now >= child.restart_at:
            child.start()
        return
    assert child.process is not None
    code = child.process.poll()
    if code is None:
        return
    if now - child.started >= _STEADY_SECONDS:
        child.pause = _FIRST_PAUSE
    log.warning(
        "worker process %d (pid %d) exited with %d; started again in %.0f s",
        child.index,
        child.process.pid,
        code,
        child.pause,
    )
    child.restart_at = now + child.pause
    child.pause = min(child.pause * 2, _LAST_PAUSE)


def _stop(children: Sequence[_Child], signum: int) -> None:
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signum)
    for process in running:
        try:
            process.wait(45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_argv(arguments: Sequence[str]) -> list[str]:
    """The command line of one child: ``particulier worker`` with ``arguments``."""
    return [sys.executable, "-m", "broker.tooling.cli", "worker", *arguments]
