"""Transcogage: birth commune name + département + birth year -> INSEE COG code.

API Particulier accepts a birthplace either as a COG code or as a commune name with its
département and the birth year; the providers only know COG codes, and a commune's code is the
one it had when the person was born (communes merge, split, get renamed, and Corsica or the
former Seine / Seine-et-Oise changed département). The table shipped in
``data/cog_communes.csv.gz`` (see ``data/README.md`` and ``_build_cog.py``) holds every
commune, associated or delegated commune and municipal arrondissement since 1943 with its
validity dates, so the lookup needs no network and answers in microseconds once loaded.

Like API Particulier (which asks INSEE for the communes valid on 1 January of the birth year),
the state on 1 January of the year wins; a commune that only existed later in that year is the
fallback, so a person born in a commune created mid-year is still found.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

__all__ = ["is_known_commune", "normalise_commune_name", "resolve_birthplace"]

DATA_FILE: Final = "cog_communes.csv.gz"
COLUMNS: Final = ("code", "kind", "name", "start", "end", "parent", "other_depts", "key", "article")
_NEVER: Final = 0
_FOREVER: Final = 99_999_999

# Kinds, in the order a name is tried: a real commune first; then a municipal arrondissement
# (Paris, Lyon, Marseille: INSEE codes births there by arrondissement); then an associated or
# delegated commune, which stands for the commune it belongs to.
_KIND_RANK: Final = {"COM": 0, "ARM": 1, "COMA": 2, "COMD": 2}

_TRAILING_ARTICLE = re.compile(r"\s*\(\s*(?:L['’ʼ]?|LE|LA|LES)\s*\)\s*$", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_ARTICLES: Final = frozenset({"L", "LE", "LA", "LES"})
_ABBREVIATIONS: Final = {"ST": "SAINT", "STE": "SAINTE", "STS": "SAINTS", "STES": "SAINTES"}
_LIGATURES: Final = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss"})


def _keys(name: str) -> tuple[str, str]:
    """(key without the leading article, key with it): see :func:`normalise_commune_name`."""
    text = name.strip()
    suffix = _TRAILING_ARTICLE.search(text)
    if suffix:
        # Old COG spelling 'Abergement-Clémenciat (L')' is the same commune as 'L'Abergement...'.
        text = f"{suffix.group(0).strip(' ()')} {text[: suffix.start()]}"
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_LIGATURES)))
    words = [_ABBREVIATIONS.get(word, word) for word in _NON_ALNUM.sub(" ", text.upper()).split()]
    full = " ".join(words)
    if len(words) > 1 and words[0] in _ARTICLES:
        return " ".join(words[1:]), full
    return full, full


def normalise_commune_name(name: str) -> str:
    """Comparable form of a commune name, so that what a person types matches the COG label.

    Upper case, accents and ligatures dropped, hyphens/apostrophes/punctuation/space runs made
    one space, 'ST'/'STE' spelled 'SAINT'/'SAINTE', and the leading article (L', LE, LA, LES,
    or the old '(LE)' suffix) dropped: 'Le Mans', 'Mans (Le)' and 'LE-MANS' all give 'MANS'.
    """
    return _keys(name)[0]


# One period of one name: (code to answer, kind rank, start, end, article, own département?).
# Dates are YYYYMMDD integers, the end exclusive; plain tuples keep the load fast.
_Entry = tuple[str, int, int, int, str, bool]


@dataclass(frozen=True, slots=True)
class _Table:
    """Everything the lookups need, built once from the shipped file."""

    by_name: dict[tuple[str, str], list[_Entry]]
    known_codes: frozenset[str]


def departement_of(code: str) -> str:
    """Département part of a commune code: three characters overseas ('971'), else two."""
    return code[:3] if code.startswith(("97", "98")) else code[:2]


def split_article(name: str) -> tuple[str, str]:
    """(normalised name, the leading article it dropped or ''): the two key columns of the file."""
    key, full = _keys(name)
    return key, full[: len(full) - len(key)].strip()


def read_rows() -> list[list[str]]:
    """The shipped file's rows (header checked and dropped)."""
    raw = resources.files("broker.identity").joinpath("data", DATA_FILE).read_bytes()
    rows = list(csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise RuntimeError(f"{DATA_FILE}: unexpected header, regenerate it with _build_cog.py")
    return rows[1:]


@lru_cache(maxsize=1)
def _table() -> _Table:
    """Index the shipped file once (lazily: importing this module costs nothing).

    The normalised names are precomputed in the file (a unit test checks they still match
    :func:`normalise_commune_name`), which keeps the first call well under 0.3 s.
    """
    index: dict[tuple[str, str], list[_Entry]] = {}
    rows = read_rows()
    ranks = _KIND_RANK
    for code, kind, _name, start, end, parent, other_depts, key, article in rows:
        # Inlined departement_of / _date_number: this loop is most of the load time.
        own = code[:3] if code[0] == "9" and code[1] in "78" else code[:2]
        since = int(start.replace("-", "")) if start else _NEVER
        until = int(end.replace("-", "")) if end else _FOREVER
        answer = parent if parent and kind != "COM" and kind != "ARM" else code
        entry = (answer, ranks[kind], since, until, article, True)
        slot = index.get((own, key))
        if slot is None:
            index[(own, key)] = [entry]
        else:
            slot.append(entry)
        if other_depts:
            for dept in other_depts.split("|"):
                moved = (answer, ranks[kind], since, until, article, False)
                index.setdefault((dept, key), []).append(moved)
    return _Table(index, frozenset(row[0] for row in rows))


def _normalise_departement(departement: str) -> str:
    """'2a' -> '2A', '8' -> '08'; the rest as given."""
    dept = departement.strip().upper()
    return dept.zfill(2) if dept.isdigit() and len(dept) == 1 else dept


def _pick(candidates: list[_Entry], article: str) -> tuple[bool, str | None]:
    """(decided, code): one code wins, or the candidates are ambiguous, or there are none."""
    codes = {entry[0] for entry in candidates}
    if len(codes) > 1:
        # 'Les Essarts' and 'Essarts' are both 'ESSARTS': the exact spelling settles it.
        codes = {entry[0] for entry in candidates if entry[4] == article}
        return True, codes.pop() if len(codes) == 1 else None
    return (True, codes.pop()) if codes else (False, None)


_RANKS: Final = sorted(set(_KIND_RANK.values()))


def resolve_birthplace(name: str, departement: str, year: int | None) -> str | None:
    """COG code of the commune called ``name`` in ``departement`` in ``year``.

    ``year`` None means today. The département may be the one of the time of birth or the
    current one ('20' or '2A' for Ajaccio in 1960 both give '20004'). Returns None when no
    commune matches, or when several distinct codes do (a guess would send the request for
    somebody else).
    """
    key, article = split_article(name)
    if not key:
        return None
    entries = _table().by_name.get((_normalise_departement(departement), key))
    if not entries:
        return None
    if year is None:
        windows = [(_FOREVER - 1, _FOREVER)]
    else:
        first_january, next_january = year * 10_000 + 101, (year + 1) * 10_000 + 101
        # The state on 1 January first (as API Particulier does), then any day of that year.
        windows = [(first_january, first_january + 1), (first_january, next_january)]
    for window_start, window_end in windows:
        alive = [e for e in entries if e[2] < window_end and e[3] > window_start]
        for rank in _RANKS:
            for own in (True, False):
                tier = [e for e in alive if e[1] == rank and e[5] is own]
                decided, code = _pick(tier, article)
                if decided:
                    return code
    return None


def is_known_commune(code: str) -> bool:
    """True for a code that is or was a commune, associated/delegated commune or arrondissement.

    Historical codes count: a person born in Ajaccio in 1960 carries '20004' for life.
    """
    return code.strip().upper() in _table().known_codes
