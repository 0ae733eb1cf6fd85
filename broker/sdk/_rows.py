"""Input rows of a batch run: CSV (``,`` or ``;``) or JSON Lines, read as a stream.

A file is never loaded whole: rows are produced one at a time, so a run of 10^6 households
holds only the rows in flight. Each row becomes a :class:`BatchRow` with the dataset's
parameters, or with a local problem when it cannot even be built (see ``docs/batch.md``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import types
import typing
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "LOCAL_MALFORMED_ROW",
    "LOCAL_MISSING_COLUMN",
    "BatchRow",
    "InputFormat",
    "RowMapping",
    "count_rows",
    "csv_header",
    "detect_delimiter",
    "file_digest",
    "input_format",
    "param_kinds",
    "parse_map",
    "read_records",
    "read_rows",
]

LOCAL_MISSING_COLUMN = "local.missing_column"
"""A mapped column is absent from the row (short CSV row, JSONL object without the key)."""
LOCAL_MALFORMED_ROW = "local.malformed_row"
"""The row cannot be read: not JSON, not an object, or more CSV fields than the header."""

_LIST_SPLIT = re.compile(r"[\s,]+")


class InputFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One request to make, or a row that could not be built (``problem`` set)."""

    number: int
    """1-based ordinal of the data row in the input (header and blank lines not counted)."""
    id: str
    params: Mapping[str, Any] | None
    problem: str | None = None
    """A ``local.*`` code when the row could not be built; then ``params`` is ``None``."""
    parameter: str | None = None
    """The API parameter at fault, for a local problem."""
    detail: str | None = None


def input_format(path: Path, declared: str | None = None) -> InputFormat:
    """``declared``, or the file's extension: ``.jsonl``/``.ndjson``/``.json`` are JSON Lines."""
    if declared:
        return InputFormat(declared.lower())
    suffix = path.suffix.lower()
    return InputFormat.JSONL if suffix in {".jsonl", ".ndjson", ".json"} else InputFormat.CSV


def detect_delimiter(header: str) -> str:
    """``;`` when the header line has more semicolons than commas outside quotes, else ``,``."""
    outside = re.sub(r'"[^"]*"', "", header)
    return ";" if outside.count(";") > outside.count(",") else ","


def file_digest(path: Path) -> str:
    """SHA-256 of the file, so that a resumed run can refuse an input that changed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def parse_map(pairs: Collection[str]) -> dict[str, str]:
    """``column=param`` pairs into ``{column: param}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, param = pair.partition("=")
        if not sep or not column.strip() or not param.strip():
            raise ValueError(f"expected column=param, got {pair!r}")
        mapping[column.strip()] = param.strip()
    return mapping


def param_kinds(model: type[Any] | None) -> dict[str, str]:
    """API parameter name -> ``list``, ``int`` or ``str``, from a dataset's params model.

    CSV cells are text: this tells which ones to split into lists (``prenoms``) or to turn into
    numbers. An unknown model gives ``{}`` (every value is then sent as read).
    """
    fields = getattr(model, "model_fields", None)
    if not isinstance(fields, Mapping):
        return {}
    kinds: dict[str, str] = {}
    for name, info in fields.items():
        kinds[getattr(info, "alias", None) or name] = _kind(getattr(info, "annotation", None))
    return kinds


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "str"
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple):
        return "list"
    if annotation is int:
        return "int"
    return "str"


class RowMapping:
    """Turns a record (column -> value) into a dataset's params.

    Explicit ``--map column=param`` pairs come first; then every column already named as one of
    the dataset's parameters is taken as is. Other columns (the row id, notes...) are not sent:
    a request carries only what the dataset needs.
    """

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        *,
        kinds: Mapping[str, str] | None = None,
        id_column: str | None = None,
    ) -> None:
        self.mapping = dict(mapping or {})
        self.kinds = dict(kinds or {})
        self.id_column = id_column
        mapped = set(self.mapping.values())
        self._implicit = {p for p in self.kinds if p not in mapped}

    def missing_columns(self, header: Collection[str]) -> list[str]:
        """Mapped columns that a CSV header lacks: every row would fail, so the run refuses."""
        return [c for c in self.mapping if c not in header]

    def row_id(self, number: int, record: Mapping[str, Any]) -> str:
        """The id column's value, else the row number."""
        raw = record.get(self.id_column or "id")
        return str(raw) if raw not in (None, "") else str(number)

    def build(self, number: int, record: Mapping[str, Any], *, text: bool) -> BatchRow:
        """The row's request; ``text`` says values are CSV text (to split and convert)."""
        row_id = self.row_id(number, record)
        params: dict[str, Any] = {}
        for column, param in self.mapping.items():
            if column not in record:
                return BatchRow(
                    number,
                    row_id,
                    None,
                    LOCAL_MISSING_COLUMN,
                    param,
                    f"La colonne {column!r} (paramètre {param}) est absente de la ligne.",
                )
            self._put(params, param, record[column], text)
        for column, value in record.items():
            if column in self._implicit and column not in self.mapping:
                self._put(params, column, value, text)
        if not self.kinds and not self.mapping:
            # No declaration known: send every column but the id, as read.
            for column, value in record.items():
                if column != (self.id_column or "id"):
                    self._put(params, column, value, text)
        return BatchRow(number, row_id, params)

    def _put(self, params: dict[str, Any], name: str, value: Any, text: bool) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return  # an empty cell is an absent parameter: the broker answers its own code
        kind = self.kinds.get(name, "str")
        if text and isinstance(value, str):
            value = value.strip()
            if kind == "list":
                value = [part for part in _LIST_SPLIT.split(value) if part]
            elif kind == "int" and value.isdigit() and len(value) < 10:
                value = int(value)
        elif kind == "list" and isinstance(value, str):
            value = [value]
        params[name] = value


def read_records(
    path: Path, fmt: InputFormat, *, delimiter: str | None = None
) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    """``(number, record or None, problem)`` for each non-blank data row, in file order. A row
    with a problem may come with a partial record (for its id only).

    The first item of a CSV file is ``(0, header-as-mapping, None)`` so that callers can check
    the header; data rows start at 1.
    """
    if fmt is InputFormat.JSONL:
        yield from _jsonl_records(path)
    else:
        yield from _csv_records(path, delimiter)


def _jsonl_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    number = 0
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            number += 1
            try:
                record = json.loads(line)
            except ValueError:
                yield number, None, "La ligne n'est pas un objet JSON lisible."
                continue
            if not isinstance(record, dict):
                yield number, None, "La ligne n'est pas un objet JSON."
                continue
            yield number, record, None


def _csv_records(
    path: Path, delimiter: str | None
) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
        sep = delimiter or detect_delimiter(first)
        header = [h.strip() for h in next(csv.reader([first], delimiter=sep), [])]
        yield 0, {h: h for h in header}, None
        number = 0
        for values in csv.reader(handle, delimiter=sep):
            if not values or all(not v.strip() for v in values):
                continue
            number += 1
            if len(values) > len(header):
                # Kept for the row id only: the fields cannot be matched to columns.
                partial = dict(zip(header, values, strict=False))
                yield number, partial, "La ligne a plus de champs que l'en-tête."
                continue
            yield number, dict(zip(header, values, strict=False)), None


def read_rows(
    path: Path,
    fmt: InputFormat,
    mapping: RowMapping,
    *,
    delimiter: str | None = None,
    skip: typing.Callable[[int], bool] | None = None,
) -> Iterator[BatchRow]:
    """The rows of ``path`` as requests, streaming; rows for which ``skip`` is true are passed
    over without being built (a resumed run's answered rows)."""
    for number, record, problem in read_records(path, fmt, delimiter=delimiter):
        if number == 0:
            continue
        if skip is not None and skip(number):
            continue
        if problem is not None or record is None:
            row_id = mapping.row_id(number, record) if record is not None else str(number)
            yield BatchRow(number, row_id, None, LOCAL_MALFORMED_ROW, None, problem)
        else:
            yield mapping.build(number, record, text=fmt is InputFormat.CSV)


def csv_header(path: Path, delimiter: str | None = None) -> list[str]:
    """The header row of a CSV file."""
    for number, record, _ in _csv_records(path, delimiter):
        if number == 0 and record is not None:
            return list(record)
    return []


def count_rows(path: Path, fmt: InputFormat, *, delimiter: str | None = None) -> int:
    """Data rows of the file (one streaming pass), for the progress bar's total."""
    return sum(1 for number, _, _ in read_records(path, fmt, delimiter=delimiter) if number)
