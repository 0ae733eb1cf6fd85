"""Transcogage: birth commune name + département + year -> the COG code of that time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broker.identity.cog import (
    is_known_commune,
    normalise_commune_name,
    read_rows,
    resolve_birthplace,
    split_article,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Charleville-Mézières", "CHARLEVILLE MEZIERES"),
        ("  saint-étienne ", "SAINT ETIENNE"),
        ("St-Etienne", "SAINT ETIENNE"),
        ("Ste Marie", "SAINTE MARIE"),
        ("L'Haÿ-les-Roses", "HAY LES ROSES"),
        ("L’Haÿ les  Roses", "HAY LES ROSES"),
        ("Le Mans", "MANS"),
        ("LE-MANS", "MANS"),
        ("Mans (Le)", "MANS"),
        ("Abergement-Clémenciat (L')", "ABERGEMENT CLEMENCIAT"),
        ("Œuilly", "OEUILLY"),
        ("Château-Chinon (Ville)", "CHATEAU CHINON VILLE"),
        ("La", "LA"),  # an article alone is kept: it is the whole name
    ],
)
def test_normalise_commune_name(raw: str, normalised: str) -> None:
    assert normalise_commune_name(raw) == normalised


@pytest.mark.parametrize(
    ("name", "departement", "year", "code"),
    [
        ("Marseille", "13", 1980, "13055"),
        ("Marseille", "13", None, "13055"),
        ("Charleville-Mézières", "08", None, "08105"),
        ("Charleville-Mézières", "08", 1990, "08105"),
        ("CHARLEVILLE MEZIERES", "08", 1990, "08105"),
        ("Évreux", "27", 2001, "27229"),
        ("Evreux", "27", 2001, "27229"),
        ("Saint-Étienne", "42", 1975, "42218"),
        ("St Etienne", "42", 1975, "42218"),
        ("Le Mans", "72", 1985, "72181"),
        ("Ajaccio", "2A", 1990, "2A004"),
        ("ajaccio", "2a", None, "2A004"),
        ("Bastia", "2B", 1990, "2B033"),
        ("Porto-Vecchio", "2A", 1980, "2A247"),
        ("Pointe-à-Pitre", "971", 1990, "97120"),
        ("Les Abymes", "971", 1990, "97101"),
        ("Fort-de-France", "972", None, "97209"),
        ("Cayenne", "973", None, "97302"),
        ("Saint-Denis", "974", None, "97411"),
        ("Saint-Denis", "93", None, "93066"),
        ("Paris", "75", 1990, "75056"),
        ("Paris 14e Arrondissement", "75", 1990, "75114"),
        ("Lyon 3e Arrondissement", "69", 1980, "69383"),
    ],
)
def test_real_communes(name: str, departement: str, year: int | None, code: str) -> None:
    assert resolve_birthplace(name, departement, year) == code
    assert is_known_commune(code)


@pytest.mark.parametrize(
    ("name", "departement", "year"),
    [
        ("Nulle-Part-sur-Rien", "13", 2000),
        ("Marseille", "75", 2000),  # real name, wrong département
        ("", "13", None),
        ("---", "13", None),
        ("Braye", "02", 1950),  # two communes of that name in the Aisne until 1961: ambiguous
    ],
)
def test_unknown_or_ambiguous_is_none(name: str, departement: str, year: int | None) -> None:
    assert resolve_birthplace(name, departement, year) is None


def test_merged_commune_is_resolved_by_year() -> None:
    """Charleville and Mézières merged on 1966-10-01 into Charleville-Mézières (08105)."""
    assert resolve_birthplace("Mézières", "08", 1960) == "08290"
    assert resolve_birthplace("Mézières", "08", 1966) == "08290"  # still there on 1 January
    assert resolve_birthplace("Mézières", "08", 1970) is None  # no such commune any more
    assert resolve_birthplace("Charleville", "08", 1960) == "08105"
    assert resolve_birthplace("Charleville-Mézières", "08", 1965) is None  # not created yet
    assert resolve_birthplace("Charleville-Mézières", "08", 1966) == "08105"  # created that year


def test_delegated_commune_answers_its_commune_nouvelle() -> None:
    """Annecy-le-Vieux (74011) became a delegated commune of Annecy (74010) on 2017-01-01."""
    assert resolve_birthplace("Annecy-le-Vieux", "74", 2000) == "74011"
    assert resolve_birthplace("Annecy-le-Vieux", "74", 2020) == "74010"
    assert resolve_birthplace("Annecy", "74", 2020) == "74010"


def test_change_of_departement() -> None:
    """Corsica split in 1976 (20 -> 2A/2B), Seine split in 1968 (75 -> 92...): either code works."""
    assert resolve_birthplace("Ajaccio", "2A", 1960) == "20004"
    assert resolve_birthplace("Ajaccio", "20", 1960) == "20004"
    assert resolve_birthplace("Ajaccio", "20", 2000) == "2A004"
    assert resolve_birthplace("Boulogne-Billancourt", "92", 1960) == "75012"
    assert resolve_birthplace("Boulogne-Billancourt", "75", 1960) == "75012"
    assert resolve_birthplace("Boulogne-Billancourt", "92", 2000) == "92012"


def test_renamed_commune_after_2019() -> None:
    """Changes after the 1943-2019 history come from the yearly snapshots (Oissel, 2025)."""
    assert resolve_birthplace("Oissel", "76", 2024) == "76484"
    assert resolve_birthplace("Oissel-sur-Seine", "76", None) == "76484"


def test_is_known_commune() -> None:
    assert is_known_commune("13055")
    assert is_known_commune("2a004")
    assert is_known_commune("20004")  # historical code (Ajaccio before 1976)
    assert is_known_commune("75114")  # Paris 14e
    assert not is_known_commune("99999")
    assert not is_known_commune("")


def test_file_keys_match_normalisation() -> None:
    """The file stores the normalised names: a change of normalise_commune_name needs a rebuild."""
    stale = [row[2] for row in read_rows() if split_article(row[2]) != (row[7], row[8])]
    assert stale == [], f"run python -m broker.identity._build_cog ({len(stale)} stale rows)"


def test_loading_is_lazy_and_fast() -> None:
    code = (
        "import time; from broker.identity import cog;"
        "assert cog._table.cache_info().currsize == 0, 'loaded at import';"
        "t = time.perf_counter(); cog.resolve_birthplace('Marseille', '13', 1980);"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    # ~0.2 s on the 2-core CI machine; the bound leaves room for a busy machine.
    assert float(out.stdout) < 1.0
