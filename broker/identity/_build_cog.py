"""Regenerate ``data/cog_communes.csv.gz`` from Etalab's ``@etalab/decoupage-administratif``.

Build-time only: the broker reads the generated file and never this script's sources. The data
come from the npm registry package (INSEE's Code Officiel Géographique, republished by Etalab
under the Licence Ouverte 2.0), because no PyPI package ships the COG with its history:

* version 0.7.0 carries ``historique-communes.json``, every commune since 1943-01-01 with the
  dates of its merges, splits, renames and changes of département, up to COG 2019;
* the later versions carry one yearly snapshot each (COG 2021 to 2026; no 2020 release exists),
  whose differences give the changes after 2019, dated to 1 January of the snapshot's year.

Usage (needs ``npm``, or the tarballs already in ``--tarballs``)::

    python -m broker.identity._build_cog [--tarballs DIR] [--output FILE]

The tarballs' SHA-1 are pinned below, so a rebuild from the same versions is byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.identity.cog import COLUMNS, DATA_FILE, departement_of, split_article

PACKAGE = "@etalab/decoupage-administratif"
HISTORY_VERSION = "0.7.0"
HISTORY_YEAR = 2019
# (COG year, package version, SHA-1 of the npm tarball): the millésime table of its README.
SNAPSHOTS: tuple[tuple[int, str, str], ...] = (
    (2019, "0.7.0", "c39c463259f4e23f5466e574a629b085ef6663dd"),
    (2021, "1.1.1", "a0b777847d3802864d81734bbd58eec90efd594a"),
    (2022, "2.3.1", "9d8c4606407ceef062c1bcde3aa57be31d661fdc"),
    (2023, "3.1.1", "bb8388c57526ba45a39a7b6e7da8d1d496278e7c"),
    (2024, "4.1.0", "a06c1fd4bf690a25b55e34846f479850cf2fcb85"),
    (2025, "5.3.0", "53c1ce474b9246a169355f6c15b705c03251a615"),
    (2026, "6.0.0", "0330556cf07e21fff21111e5775a316ec18b9636"),
)
KINDS = {
    "commune-actuelle": "COM",
    "commune-deleguee": "COMD",
    "commune-associee": "COMA",
    "arrondissement-municipal": "ARM",
}
HISTORY_KINDS = frozenset({"COM", "COMA", "COMD"})  # 'COMP' (merged-away part) is no COG entity
SAME_COMMUNE_REASONS = ("changement de département", "changement de nom")
DEFAULT_OUTPUT = Path(__file__).parent / "data" / DATA_FILE

Key = tuple[str, str, str, str]  # kind, code, name, parent


@dataclass
class Row:
    """One name of one COG entity over one period; ``end`` is exclusive, '' means still valid."""

    code: str
    kind: str
    name: str
    start: str = ""
    end: str = ""
    parent: str = ""
    other_depts: set[str] = field(default_factory=set)

    @property
    def key(self) -> Key:
        return (self.kind, self.code, self.name, self.parent)

    def as_csv(self) -> tuple[str, ...]:
        depts = "|".join(sorted(self.other_depts - {departement_of(self.code)}))
        key, article = split_article(self.name)
        return (
            self.code,
            self.kind,
            self.name,
            self.start,
            self.end,
            self.parent,
            depts,
            key,
            article,
        )


def tarball(directory: Path, version: str, sha1: str) -> Path:
    """The package's tarball for ``version``, fetched with ``npm pack`` if absent, checked."""
    path = directory / f"etalab-decoupage-administratif-{version}.tgz"
    if not path.exists():
        subprocess.run(
            [
                "npm",
                "pack",
                "--silent",
                "--pack-destination",
                str(directory),
                f"{PACKAGE}@{version}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    if digest != sha1:
        raise SystemExit(f"{path.name}: sha1 {digest}, expected {sha1}")
    return path


def member(path: Path, name: str) -> Any:
    """A JSON file of the package, read straight from the tarball."""
    with tarfile.open(path) as archive:
        handle = archive.extractfile(f"package/data/{name}")
        if handle is None:
            raise SystemExit(f"{path.name}: no data/{name}")
        return json.load(handle)


def history_rows(history: list[dict[str, Any]]) -> list[Row]:
    """Periods from the 1943-2019 history, with the départements each commune ever had."""
    by_id = {record["id"]: record for record in history}

    def parent_code(record: dict[str, Any]) -> str:
        seen = record
        while seen["type"] != "COM" and seen.get("pole"):
            seen = by_id[seen["pole"]]
        return str(seen["code"]) if seen is not record else ""

    # Union-find over renames and changes of département: one commune, several départements.
    group = {record_id: record_id for record_id in by_id}

    def root(record_id: str) -> str:
        while group[record_id] != record_id:
            group[record_id] = group[group[record_id]]
            record_id = group[record_id]
        return record_id

    for record in history:
        successor = record.get("successeur")
        if successor and any(r in (record.get("raisonFin") or "") for r in SAME_COMMUNE_REASONS):
            group[root(record["id"])] = root(successor)
    depts: dict[str, set[str]] = {}
    for record in history:
        depts.setdefault(root(record["id"]), set()).add(departement_of(record["code"]))

    return [
        Row(
            code=record["code"],
            kind=record["type"],
            name=record["nom"],
            start=record.get("dateDebut") or "",
            end=record.get("dateFin") or "",
            parent=parent_code(record) if record["type"] != "COM" else "",
            other_depts=set(depts[root(record["id"])]),
        )
        for record in history
        if record["type"] in HISTORY_KINDS
    ]


def snapshot_rows(communes: Iterable[dict[str, Any]]) -> Iterator[Row]:
    """The entities of one yearly COG snapshot."""
    for commune in communes:
        kind = KINDS.get(commune["type"])
        if kind is None:
            continue
        parent = "" if kind == "COM" else commune.get("chefLieu") or commune.get("commune") or ""
        yield Row(code=commune["code"], kind=kind, name=commune["nom"], parent=parent)


def build(directory: Path) -> list[Row]:
    """All periods: the history up to 2019, then the snapshots' differences year by year."""
    paths = {version: tarball(directory, version, sha1) for _, version, sha1 in SNAPSHOTS}
    rows = history_rows(member(paths[HISTORY_VERSION], "historique-communes.json"))
    open_rows: dict[Key, Row] = {row.key: row for row in rows if not row.end}
    closed = [row for row in rows if row.end]

    depts_by_code: dict[str, set[str]] = {}
    for row in rows:
        depts_by_code.setdefault(row.code, set()).update(row.other_depts)
    previous = HISTORY_YEAR
    for year, version, _ in SNAPSHOTS:
        snapshot = {row.key: row for row in snapshot_rows(member(paths[version], "communes.json"))}
        if year == HISTORY_YEAR:
            # Same state as the history's end; it adds what the history lacks (arrondissements,
            # overseas collectivities), valid since before 1943 as far as this data knows.
            history_only = [key for key in open_rows if key not in snapshot]
            if history_only:
                raise SystemExit(f"history and COG {year} disagree on {history_only[:5]}")
            for key, row in snapshot.items():
                open_rows.setdefault(key, row)
            continue
        for key in [key for key in open_rows if key not in snapshot]:
            row = open_rows.pop(key)
            row.end = f"{year}-01-01"
            closed.append(row)
        for key, row in snapshot.items():
            if key not in open_rows:
                # Between two consecutive millésimes the change took effect on 1 January; across
                # the missing 2020 one it took effect in 2020 or on 1 January 2021.
                row.start = f"{previous + 1}-01-01"
                row.other_depts = set(depts_by_code.get(row.code, ()))
                open_rows[key] = row
        previous = year
    return sorted([*closed, *open_rows.values()], key=lambda r: (r.code, r.start, r.kind, r.name))


def write(rows: list[Row], output: Path) -> None:
    """Deterministic gzipped CSV (fixed mtime, sorted rows): a rebuild yields the same bytes."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.as_csv() for row in rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as packed,
    ):
        packed.write(text.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Command line: fetch (or reuse) the tarballs, build, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tarballs", type=Path, help="directory holding (or receiving) them")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory: Path = args.tarballs or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        rows = build(directory)
    write(rows, args.output)
    print(f"{args.output}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
