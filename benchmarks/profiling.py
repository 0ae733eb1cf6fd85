"""Where a worker's CPU goes: py-spy samples attributed to the steps of the path.

``py-spy record --format raw`` writes one line per distinct stack, ``frame;frame;... count``,
root first, each frame ``function (file:line)``; idle threads are not sampled, so a share of
samples is a share of CPU time. Each stack is given to one step:

1. the deepest frame of the path's own code (``broker/``, ``workers/``, prometheus_client)
   that a rule below names decides, so a library called from a step counts for that step
   (pydantic under ``validate_params`` is validation, aio-pika under ``Worker._publish`` is
   publish/ack);
2. stacks with no such frame are library work the event loop runs by itself: aio-pika /
   aiormq / pamqp frame reading and writing (including the socket writes of replies and
   acks), aiohttp's client protocol (upstream HTTP answers), asyncpg's protocol (journal),
   and the event loop's own bookkeeping.

Usage on saved profiles: ``python -m benchmarks.profiling [--client] FILE.raw[.gz]...``.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CLIENT_STEPS", "STEPS", "Attribution", "attribute", "parse_raw", "read_profile"]

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

STEPS = (
    "validation",
    "habilitation",
    "upstream HTTP",
    "mapping + mask",
    "reply assembly",
    "signing",
    "journal",
    "publish/ack",
    "metrics",
    "worker glue",
    "aio-pika/aiormq",
    "event loop",
    "other",
)


@dataclass(frozen=True)
class _Rules:
    """Which step a frame of own code is given to: a few functions are named, and otherwise a
    whole file or folder belongs to one step, so the table lists each file once."""

    functions: dict[str, dict[str, str]]
    """File fragment: {function name: step} of the functions whose step is not their file's;
    tried first, in order."""
    files: dict[str, tuple[str, ...]]
    """Each step's file fragments: a frame in one of them, in no function above, is of it."""


_PATH_RULES = _Rules(
    functions={
        "broker/runtime/_sealing.py": {"_sealed": "journal"},
        "broker/runtime/_edge.py": {
            "_journal_call": "journal",
            "_publish": "publish/ack",
            "_dead_letter": "publish/ack",
        },
        "broker/kit/_dataset.py": {"validate_params": "validation", "mask": "mapping + mask"},
        "broker/kit/_endpoint.py": {"fetch": "upstream HTTP"},
        "broker/sdk/_canonical.py": {"request_hash": "request hash"},
        "workers/": {"fetch": "upstream HTTP", "request_body": "upstream HTTP"},
    },
    files={
        "validation": (
            "broker/runtime/_request.py",
            "broker/runtime/_pipeline.py",
            "broker/kit/_dataset.py",
            "broker/sdk/contract.py",
            "broker/kit/_civility.py",
        ),
        "reply assembly": ("broker/runtime/_sealing.py",),
        "worker glue": ("broker/runtime/_edge.py",),
        "mapping + mask": (
            "broker/kit/_endpoint.py",
            "broker/kit/_renaming.py",
            "broker/errors.py",
            "workers/",
        ),
        "habilitation": ("broker/habilitations/",),
        "journal": ("broker/journal/",),
        "signing": ("broker/certification/", "broker/sdk/_canonical.py"),
        "upstream HTTP": ("broker/kit/_upstream.py",),
        "metrics": ("broker/metrics.py", "prometheus_client/"),
    },
)

# Library frames, for stacks without any frame of the path's code.
_LIBRARY_RULES: tuple[tuple[str, str], ...] = (
    ("aio_pika/", "aio-pika/aiormq"),
    ("aiormq/", "aio-pika/aiormq"),
    ("pamqp/", "aio-pika/aiormq"),
    ("asyncpg/", "journal"),
    ("aiohttp/web", "metrics"),
    ("aiohttp/", "upstream HTTP"),
    ("yarl/", "upstream HTTP"),
    ("multidict/", "upstream HTTP"),
)

CLIENT_STEPS = (
    "request hash",
    "publish",
    "proof check",
    "parse reply",
    "reply handling",
    "load generator",
    "aio-pika/aiormq",
    "event loop",
    "other",
)

# The SDK client's side (the benchmark process itself).
_CLIENT_RULES = _Rules(
    functions={
        "broker/sdk/_canonical.py": {"request_hash": "request hash"},
        "broker/sdk/_client.py": {
            "verify": "parse reply",
            "_on_reply": "reply handling",
            "publish": "publish",
            "_publish_until": "publish",
        },
    },
    files={
        "proof check": ("broker/sdk/_verify.py", "broker/sdk/_canonical.py"),
        "reply handling": ("broker/sdk/_client.py",),
        "load generator": ("benchmarks/load.py",),
    },
)
_CLIENT_LIBRARY_RULES: tuple[tuple[str, str], ...] = (
    ("aio_pika/", "aio-pika/aiormq"),
    ("aiormq/", "aio-pika/aiormq"),
    ("pamqp/", "aio-pika/aiormq"),
)

_LOOP = ("asyncio/", "selectors.py", "<frozen runpy>", "runpy.py", "typer/", "click/", "contextlib")


@dataclass(frozen=True)
class Frame:
    func: str
    file: str

    @property
    def short(self) -> str:
        return f"{self.func} ({self.file})"


def _parse_frame(text: str) -> Frame:
    match = _FRAME.match(text.strip())
    if match is None:
        return Frame(text.strip(), "")
    return Frame(match["func"], match["file"] or "")


def read_profile(path: Path) -> str:
    """A py-spy raw file's text, gzipped (``.gz``) or not."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", errors="replace") as handle:
            return handle.read()
    return path.read_text(errors="replace")


def parse_raw(text: str) -> list[tuple[list[Frame], int]]:
    """The stacks (root first) and their sample counts of a py-spy raw file."""
    stacks = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line or " " not in line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_parse_frame(f) for f in stack.split(";")]
        # "process 123:..." / "thread (0x...)" pseudo-frames when --pid/--threads are shown
        frames = [f for f in frames if not f.func.startswith(("process ", "thread "))]
        stacks.append((frames, int(count)))
    return stacks


def _path_step(frame: Frame, rules: _Rules = _PATH_RULES) -> str | None:
    for fragment, functions in rules.functions.items():
        if fragment not in frame.file:
            continue
        for func, step in functions.items():
            if (
                frame.func == func
                or frame.func.endswith("." + func)
                or f".{func}." in frame.func
                or frame.func.startswith(func + ".")
            ):
                return step
    for step, fragments in rules.files.items():
        if any(fragment in frame.file for fragment in fragments):
            return step
    return None


def classify(frames: list[Frame], client: bool = False) -> str:
    rules = _CLIENT_RULES if client else _PATH_RULES
    step: str | None = None
    for frame in frames:
        found = _path_step(frame, rules)
        if found is not None:
            step = found
    if step is not None:
        return step
    for frame in reversed(frames):
        for fragment, library_step in _CLIENT_LIBRARY_RULES if client else _LIBRARY_RULES:
            if fragment in frame.file:
                return library_step
    if all(any(x in f.file for x in _LOOP) for f in frames):
        return "event loop"
    leaf = frames[-1] if frames else Frame("", "")
    if any(x in leaf.file for x in _LOOP):
        return "event loop"
    return "other"


@dataclass
class Attribution:
    samples: int = 0
    by_step: Counter[str] = field(default_factory=Counter)
    self_time: Counter[str] = field(default_factory=Counter)
    """Samples by leaf frame (where the CPU actually was)."""
    inclusive: Counter[str] = field(default_factory=Counter)
    """Samples by frame of the path's own code, callees included."""
    step_leaves: dict[str, Counter[str]] = field(default_factory=dict)
    """Per step, samples by leaf frame: what inside the step costs."""
    step_layers: dict[str, Counter[str]] = field(default_factory=dict)
    """Per step, samples by package of the leaf frame (httpx, aiohttp, asyncio...)."""

    def add(self, other: Attribution) -> None:
        self.samples += other.samples
        self.by_step.update(other.by_step)
        self.self_time.update(other.self_time)
        self.inclusive.update(other.inclusive)
        for mine, theirs in (
            (self.step_leaves, other.step_leaves),
            (self.step_layers, other.step_layers),
        ):
            for step, counts in theirs.items():
                mine.setdefault(step, Counter()).update(counts)

    steps: tuple[str, ...] = STEPS

    def shares(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {s: round(self.by_step.get(s, 0) / self.samples, 4) for s in self.steps}

    def to_json(self, top: int = 25) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "by_step": {s: self.by_step.get(s, 0) for s in self.steps},
            "shares": self.shares(),
            "top_self": self.self_time.most_common(top),
            "top_inclusive_own_code": self.inclusive.most_common(top),
            "top_self_by_step": {s: c.most_common(8) for s, c in self.step_leaves.items() if c},
            "layers_by_step": {s: c.most_common(8) for s, c in self.step_layers.items() if c},
        }


def _own_code(frame: Frame) -> bool:
    if frame.file.endswith("broker/tooling/cli.py") or frame.func in ("run", "main"):
        return False
    return frame.file.startswith(("broker/", "workers/")) or "/broker/" in frame.file


def _layer(frame: Frame) -> str:
    """The package of a frame: ``httpx``, ``aiohttp``, ``asyncio``, ``broker``..."""
    if frame.func == "_SelectorSocketTransport.write" or frame.func.endswith("sock_send"):
        return "socket send (syscall)"
    name = frame.file.split("/", 1)[0] if "/" in frame.file else frame.file
    return name.removesuffix(".py") or "?"


_WAITING = (
    ("ThreadedChildWatcher._do_waitpid", "asyncio/unix_events.py"),
    ("_worker", "concurrent/futures/thread.py"),
    ("Thread.run", "threading.py"),
)
"""Leaves of threads blocked in a call py-spy does not recognise as idle (``waitpid``, a
thread pool's empty queue): not CPU, left out."""


def _waiting(leaf: Frame) -> bool:
    return any(leaf.func == func and leaf.file.endswith(file) for func, file in _WAITING)


def attribute(stacks: Iterable[tuple[list[Frame], int]], client: bool = False) -> Attribution:
    """Samples by step; ``client`` for a profile of the SDK client rather than a worker."""
    result = Attribution(steps=CLIENT_STEPS if client else STEPS)
    for frames, count in stacks:
        if not frames or _waiting(frames[-1]):
            continue
        result.samples += count
        step = classify(frames, client)
        result.by_step[step] += count
        result.self_time[frames[-1].short] += count
        result.step_leaves.setdefault(step, Counter())[frames[-1].short] += count
        result.step_layers.setdefault(step, Counter())[_layer(frames[-1])] += count
        for name in {f.short for f in frames if _own_code(f)}:
            result.inclusive[name] += count
    return result


def main() -> None:
    client = "--client" in sys.argv
    total = Attribution(steps=CLIENT_STEPS if client else STEPS)
    for name in (a for a in sys.argv[1:] if a != "--client"):
        total.add(attribute(parse_raw(read_profile(Path(name))), client))
    for step, share in sorted(total.shares().items(), key=lambda kv: -kv[1]):
        print(f"{step:<18} {share * 100:6.1f}%  ({total.by_step.get(step, 0)} samples)")
    print(f"\n{total.samples} samples; where the CPU was (leaf frames):")
    for frame, n in total.self_time.most_common(25):
        print(f"{n * 100 / total.samples:6.1f}%  {frame}")
    for step in total.steps:
        layers = total.step_layers.get(step)
        if layers:
            where = ", ".join(
                f"{k} {v * 100 / total.samples:.1f}%" for k, v in layers.most_common(6)
            )
            print(f"  {step}: {where}")
    print("\nown code, callees included:")
    for frame, n in total.inclusive.most_common(30):
        print(f"{n * 100 / total.samples:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
