"""Output files of a batch run: one line per row, appended as results arrive.

The writer works on bytes and reports its offset after each flush: the checkpoint stores that
offset with the rows it covers, and a resumed run truncates the file back to it, so a row
written but not yet checkpointed when the runner died is not found twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ...sdk import BatchResult

__all__ = [
    "BASE_COLUMNS",
    "CsvWriter",
    "JsonlWriter",
    "OutputFormat",
    "ResultWriter",
    "data_columns",
    "flatten",
    "open_writer",
    "output_format",
    "prefixes",
]

OutputFormat = typing.Literal["csv", "jsonl"]
BASE_COLUMNS = ("row", "id", "status", "code", "parameter")
EXTRA_COLUMN = "extra"
"""Data members the dataset's model does not declare, as JSON (normally empty)."""


def output_format(path: Path, declared: str | None = None) -> OutputFormat:
    fmt = (declared or ("jsonl" if path.suffix.lower() in {".jsonl", ".ndjson"} else "csv")).lower()
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown output format {fmt!r}")
    return typing.cast(OutputFormat, fmt)


def data_columns(model: type[Any] | None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of a data model's scalar members: nested objects become dotted columns, lists
    (of people, of periods...) stay whole in one JSON cell."""
    fields = getattr(model, "model_fields", None)
    if not isinstance(fields, Mapping):
        return []
    paths: list[tuple[str, ...]] = []
    for name, info in fields.items():
        key = getattr(info, "alias", None) or name
        nested = _model_of(getattr(info, "annotation", None))
        if nested is not None and len(prefix) < 4:
            paths.extend(data_columns(nested, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


def _model_of(annotation: Any) -> type[Any] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := _model_of(a)) is not None]
        return models[0] if len(models) == 1 else None
    if isinstance(annotation, type) and isinstance(getattr(annotation, "model_fields", None), dict):
        return annotation
    return None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def prefixes(paths: Sequence[tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    """Every path and its ancestors: what :func:`flatten` takes as declared."""
    return frozenset(p[: i + 1] for p in paths for i in range(len(p)))


def flatten(
    data: Mapping[str, Any] | None,
    paths: Sequence[tuple[str, ...]],
    declared: frozenset[tuple[str, ...]] | None = None,
) -> tuple[list[str], str]:
    """The cells of ``paths`` in ``data``, and the members no path covers as JSON ('' if none)."""
    if data is None:
        return [""] * len(paths), ""
    cells: list[str] = []
    for path in paths:
        node: Any = data
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                node = None
                break
            node = node[key]
        cells.append(_cell(node))
    extra = _leftover(data, (), prefixes(paths) if declared is None else declared)
    return cells, (json.dumps(extra, ensure_ascii=False, separators=(",", ":")) if extra else "")


def _leftover(
    node: Mapping[str, Any], prefix: tuple[str, ...], declared: frozenset[tuple[str, ...]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = (*prefix, key)
        if path not in declared:
            out[".".join(path)] = value
        elif isinstance(value, Mapping):
            out.update(_leftover(value, path, declared))
    return out


class ResultWriter:
    """Appends results to a file; :meth:`flush` makes them durable and returns the offset."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def write(self, result: BatchResult) -> None:
        raise NotImplementedError

    def flush(self) -> int:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return self._handle.tell()

    def close(self) -> None:
        if not self._handle.closed:
            self.flush()
            self._handle.close()


class JsonlWriter(ResultWriter):
    """One JSON object per line: row, id, status, code, data, errors and request_id."""

    def write(self, result: BatchResult) -> None:
        record = {
            "row": result.row,
            "id": result.id,
            "status": result.status,
            "code": result.code,
            "data": result.data,
            "errors": result.errors,
            "request_id": result.request_id,
        }
        self._handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
        self._handle.write(b"\n")


class CsvWriter(ResultWriter):
    """``row,id,status,code,parameter``, then one column per scalar member of the data."""

    def __init__(
        self, handle: BinaryIO, paths: Sequence[tuple[str, ...]], delimiter: str = ","
    ) -> None:
        super().__init__(handle)
        self.paths = list(paths)
        self._declared = prefixes(self.paths)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, delimiter=delimiter, lineterminator="\r\n")

    def header(self) -> list[str]:
        names = [".".join(p) for p in self.paths] if self.paths else ["data"]
        return [*BASE_COLUMNS, *names, *([EXTRA_COLUMN] if self.paths else [])]

    def write_header(self) -> None:
        self._row(self.header())

    def write(self, result: BatchResult) -> None:
        base = [
            str(result.row),
            result.id,
            str(result.status),
            result.code or "",
            result.parameter or "",
        ]
        if self.paths:
            cells, extra = flatten(result.data, self.paths, self._declared)
            self._row([*base, *cells, extra])
        else:
            self._row([*base, _cell(result.data)])

    def _row(self, values: Sequence[str]) -> None:
        self._csv.writerow(values)
        self._handle.write(self._text.getvalue().encode("utf-8"))
        self._text.seek(0)
        self._text.truncate()


def open_writer(
    path: Path,
    fmt: OutputFormat,
    *,
    paths: Sequence[tuple[str, ...]] = (),
    delimiter: str = ",",
    offset: int | None = None,
) -> tuple[ResultWriter, int]:
    """A writer on a new file (``offset`` None), or on an existing one cut back to ``offset``.

    Returns the writer and the offset where results start (after a CSV header).
    """
    if offset is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle: BinaryIO = path.open("wb", buffering=1 << 20)
    else:
        handle = path.open("r+b", buffering=1 << 20)
        size = handle.seek(0, os.SEEK_END)
        if size < offset:
            handle.close()
            raise ValueError(
                f"{path} holds {size} bytes but the checkpoint covers {offset}: "
                "the output was changed since the run stopped"
            )
        handle.truncate(offset)
        handle.seek(offset)
    writer: ResultWriter
    if fmt == "jsonl":
        writer = JsonlWriter(handle)
    else:
        writer = CsvWriter(handle, paths, delimiter)
        if offset is None:
            writer.write_header()
    return writer, writer.flush()
