"""Readers, writers, checkpoint, report and pacer of batch runs: no broker needed."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest

from broker.sdk import (
    LOCAL_MALFORMED_ROW,
    LOCAL_MISSING_COLUMN,
    BatchResult,
    InputFormat,
    Pacer,
    RowMapping,
    count_rows,
    detect_delimiter,
    local_error,
    message_id,
    param_kinds,
    parse_map,
    parse_message_id,
    read_rows,
)
from broker.tooling.batch.checkpoint import Answered, Checkpoint, CheckpointError, RunSpec
from broker.tooling.batch.outputs import data_columns, flatten, open_writer
from broker.tooling.batch.report import LatencyHistogram, build_report, paused_text, render_html
from workers.cnav.datasets import DATASETS as CNAV
from workers.cnav.quotient_familial import QuotientFamilialParams

KINDS = param_kinds(QuotientFamilialParams)


def test_param_kinds_come_from_the_dataset_model() -> None:
    assert KINDS["prenoms"] == "list"
    assert KINDS["anneeDateNaissance"] == "int"
    assert KINDS["nomNaissance"] == "str"
    assert KINDS["codeCogInseeCommuneNaissance"] == "str"


@pytest.mark.parametrize(("line", "sep"), [("a,b,c", ","), ("a;b;c", ";"), ('"x;y",b,c', ",")])
def test_delimiter_is_detected_from_the_header(line: str, sep: str) -> None:
    assert detect_delimiter(line) == sep


def test_semicolon_csv_with_mapping_streams_typed_params(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "\ufeffref;nom;prenoms;sexeEtatCivil;anneeDateNaissance;codeCogInseeCommuneNaissance;note\n"
        "A1;ROUX;JEANNE MARIE;F;1982;06088;libre\n"
        "\n"
        "A2;DURAND;;M;;;\n"
        "A3;SHORT\n"
        "A4;X;Y;F;1;2;3;4\n",
        encoding="utf-8",
    )
    mapping = RowMapping(parse_map(["nom=nomNaissance"]), kinds=KINDS, id_column="ref")
    rows = list(read_rows(source, InputFormat.CSV, mapping))
    assert [r.number for r in rows] == [1, 2, 3, 4]
    assert rows[0].id == "A1"
    assert rows[0].params == {
        "nomNaissance": "ROUX",
        "prenoms": ["JEANNE", "MARIE"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 1982,
        "codeCogInseeCommuneNaissance": "06088",
    }
    # Empty cells are absent parameters: the broker answers its own coded error.
    assert rows[1].params == {"nomNaissance": "DURAND", "sexeEtatCivil": "M"}
    # A short row lacks a mapped column only if the mapped one is missing; here it is present.
    assert rows[2].params == {"nomNaissance": "SHORT"}
    assert rows[3].problem == LOCAL_MALFORMED_ROW and rows[3].id == "A4"
    assert count_rows(source, InputFormat.CSV) == 4


def test_jsonl_rows_keep_their_types_and_report_local_problems(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 7, "name": "ROUX", "prenoms": "JEANNE", "anneeDateNaissance": 1982}),
        "not json",
        json.dumps([1, 2]),
        json.dumps({"id": "x"}),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = RowMapping({"name": "nomNaissance"}, kinds=KINDS)
    rows = list(read_rows(source, InputFormat.JSONL, mapping, skip=lambda n: n == 3))
    assert [r.number for r in rows] == [1, 2, 4]
    assert rows[0].id == "7"
    assert rows[0].params == {
        "nomNaissance": "ROUX",
        "prenoms": ["JEANNE"],
        "anneeDateNaissance": 1982,
    }
    assert rows[1].problem == LOCAL_MALFORMED_ROW
    assert rows[2].problem == LOCAL_MISSING_COLUMN and rows[2].parameter == "nomNaissance"


def test_missing_mapped_columns_in_a_header_are_reported() -> None:
    mapping = RowMapping({"nom": "nomNaissance", "sexe": "sexeEtatCivil"}, kinds=KINDS)
    assert mapping.missing_columns(["nom", "prenoms"]) == ["sexe"]


def _result(row: int, status: int = 200, data: dict[str, Any] | None = None) -> BatchResult:
    return BatchResult(row, f"id{row}", status, None if status == 200 else "37003", data, [])


QF_DATA: dict[str, Any] = {
    "allocataires": [{"nom_naissance": "ROUX", "prenoms": "JEANNE"}],
    "enfants": [],
    "adresse": {"code_postal_ville": "75011 PARIS", "pays": "FRANCE"},
    "quotient_familial": {"fournisseur": "CNAF", "valeur": 1200, "annee": 2025},
    "surprise": {"a": 1},
}


def test_data_is_flattened_to_stable_columns() -> None:
    paths = data_columns(CNAV["quotient_familial"].data)
    names = [".".join(p) for p in paths]
    assert "allocataires" in names and "quotient_familial.valeur" in names
    assert "adresse.code_postal_ville" in names
    cells, extra = flatten(QF_DATA, paths)
    by_name = dict(zip(names, cells, strict=True))
    assert by_name["quotient_familial.valeur"] == "1200"
    assert json.loads(by_name["allocataires"])[0]["nom_naissance"] == "ROUX"
    assert by_name["adresse.lieu_dit"] == ""
    assert json.loads(extra) == {"surprise": {"a": 1}}


def test_csv_output_truncates_back_to_the_checkpointed_offset(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    paths = data_columns(CNAV["quotient_familial"].data)
    writer, start = open_writer(out, "csv", paths=paths, delimiter=";")
    writer.write(_result(1, data=QF_DATA))
    offset = writer.flush()
    writer.write(_result(2, status=404))  # written, never checkpointed
    writer.close()
    assert out.stat().st_size > offset > start
    writer, resumed = open_writer(out, "csv", paths=paths, delimiter=";", offset=offset)
    assert resumed == offset
    writer.write(local_error(3, "id3", LOCAL_MISSING_COLUMN, parameter="nomNaissance"))
    writer.close()
    with out.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle, delimiter=";"))
    assert [r["row"] for r in table] == ["1", "3"]
    assert table[0]["quotient_familial.valeur"] == "1200"
    assert table[1]["status"] == "0" and table[1]["code"] == LOCAL_MISSING_COLUMN
    assert table[1]["parameter"] == "nomNaissance"


def test_jsonl_output_refuses_a_file_shorter_than_the_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    writer, _ = open_writer(out, "jsonl")
    writer.write(_result(1, data={"x": 1}))
    offset = writer.flush()
    writer.close()
    assert json.loads(out.read_text())["data"] == {"x": 1}
    with pytest.raises(ValueError, match="changed"):
        open_writer(out, "jsonl", offset=offset + 10)


def _spec(run_id: str = "r1") -> RunSpec:
    return RunSpec(
        run_id=run_id,
        dataset="cnav.quotient_familial",
        recipient="13002526500013",
        input="/in.csv",
        input_format="csv",
        output="/out.csv",
        output_format="csv",
        report="/out.html",
        total=5,
        input_sha256="0",
        requester="guest",
        queue="q",
    )


def test_checkpoint_records_rows_offsets_and_sessions(tmp_path: Path) -> None:
    path = tmp_path / "r1.checkpoint"
    checkpoint = Checkpoint.create(path, _spec(), offset=10)
    checkpoint.lock()
    checkpoint.begin_session()
    checkpoint.record([(1, 200, None, 12.0, 1), (2, 404, "37003", 8.0, 1)], offset=50)
    checkpoint.record([(4, 422, "00366", 5.0, 2), (2, 200, None, 1.0, 1)], offset=80)
    assert checkpoint.offset == 80 and checkpoint.count() == 3
    answered = checkpoint.answered()
    assert answered.watermark == 2 and answered.above == {4}
    assert 4 in answered and 3 not in answered
    assert (404, "37003", 1) in checkpoint.counts()
    # A second runner cannot take the run while this one holds it.
    other = Checkpoint.open(path)
    with pytest.raises(CheckpointError):
        other.lock()
    other.close()
    reader = Checkpoint.open(path, readonly=True)
    assert reader.locked_by_other()
    assert reader.state == "running"
    reader.close()
    checkpoint.end_session("interrupted")
    checkpoint.close()
    with pytest.raises(CheckpointError):
        Checkpoint.create(path, _spec(), offset=0)


def test_answered_rows_stay_compact() -> None:
    answered = Answered()
    for row in [3, 1, 2, 5, 6, 4]:
        answered.add(row)
    assert answered.watermark == 6 and not answered.above and len(answered) == 6


def test_report_has_percentiles_and_an_offline_html_page(tmp_path: Path) -> None:
    checkpoint = Checkpoint.create(tmp_path / "r2.checkpoint", _spec("r2"), offset=0)
    checkpoint.begin_session()
    checkpoint.record(
        [
            (i, 200 if i % 10 else 404, None if i % 10 else "37003", float(i), 1)
            for i in range(1, 101)
        ],
        offset=0,
    )
    checkpoint.end_session("complete")
    report = build_report(checkpoint)
    assert report.answered == 100 and report.outcomes["not_found"] == 10
    pct = report.percentiles()
    assert pct["p50"] == pytest.approx(50, rel=0.03)
    assert pct["p99"] == pytest.approx(99, rel=0.03)
    page = render_html(report)
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "37003" in page and "Entité non trouvée" in page


def test_the_report_says_how_long_the_run_waited_for_a_paused_provider(tmp_path: Path) -> None:
    checkpoint = Checkpoint.create(tmp_path / "r3.checkpoint", _spec("r3"), offset=0)
    checkpoint.begin_session()
    checkpoint.record([(1, 200, None, 5.0, 2)], offset=0)
    assert paused_text(build_report(checkpoint)) is None, "no wait, nothing said"
    checkpoint.add_pause(12, 1800.4)
    checkpoint.end_session("interrupted")
    checkpoint.begin_session()  # a resumed run adds its own wait
    checkpoint.add_pause(3, 60.0)
    checkpoint.end_session("complete")
    report = build_report(checkpoint)
    assert report.as_dict()["provider_paused"] == {"requests": 15, "seconds": 1860.4}
    assert paused_text(report) == (
        "15 requests met the provider in maintenance or unavailable; the run waited 1,860 s "
        "for it and asked them again"
    )
    assert "Fournisseur en maintenance ou indisponible : 15 demandes" in render_html(report)


def test_histogram_is_within_two_percent() -> None:
    histogram = LatencyHistogram().extend(float(v) for v in range(1, 10_001))
    assert histogram.percentile(95) == pytest.approx(9500, rel=0.02)
    assert sum(n for _, _, n in histogram.bins()) == 10_000


def test_message_ids_are_deterministic() -> None:
    assert message_id("run-1", 42, 0) == "run-1.42"
    assert parse_message_id("run-1.42.3") == ("run-1", 42, 3)
    assert parse_message_id(message_id("run-1", 42, 0)) == ("run-1", 42, 0)
    assert parse_message_id("foreign") is None


async def test_pacer_follows_the_accepted_rate_on_429() -> None:
    clock = [1000.0]
    pacer = Pacer(clock=lambda: clock[0])
    await pacer.wait()
    assert pacer.rate is None  # unbounded until the broker says otherwise
    pacer.throttled()  # the first 429 pauses a second, then measures
    assert pacer.rate is None
    for _ in range(20):
        clock[0] += 0.049
        pacer.answered()
    assert pacer.rate is None
    clock[0] += 0.03
    pacer.answered()
    assert pacer.ceiling == pytest.approx(21 / 1.01, rel=0.01)  # accepted in that second
    assert pacer.rate == pytest.approx(0.95 * 21 / 1.01, rel=0.01)  # 95 % of it as the pace
    clock[0] += 0.5
    pace = pacer.rate
    pacer.throttled()  # within a second of the last cut: ignored
    assert pacer.rate == pace


async def test_pacer_with_a_limit_spaces_publications() -> None:
    limited = Pacer(limit=20)
    began = time.monotonic()
    for _ in range(11):
        await limited.wait()
    assert time.monotonic() - began == pytest.approx(0.5, abs=0.15)


def test_progress_lines_carry_counts_only(caplog: pytest.LogCaptureFixture) -> None:
    from collections import Counter

    from broker.sdk import BatchStats
    from broker.tooling.batch.progress import LogProgress, describe

    counts: Counter[str] = Counter({"ok": 9_500, "not_found": 480})
    stats = BatchStats(waiting=3, throttled=12, rate=19.0)
    assert describe(counts, stats) == "ok 9,500 · not_found 480 · re-send 3 · 429s 12 · pace ≤19/s"
    progress = LogProgress("run-1", 20_000, 9_980, counts, every=0)
    progress.advance("invalid")
    with caplog.at_level("INFO", logger="particulier.batch"):
        progress.refresh(stats)
    assert "batch run-1: 9981/20000 rows (49.9%)" in caplog.text
    assert "invalid 1" in caplog.text
