"""A deterministic synthetic population that every provider simulator knows.

Person ``i`` is derived from ``i`` alone, and each identifier encodes ``i`` so that a simulator
finds the person without holding a table: the population can hold millions of people at no
memory cost, and the same identity always names the same household.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

__all__ = ["Person", "Population"]

_SYLLABLES = (
    "BA",
    "BE",
    "BO",
    "DA",
    "DE",
    "DI",
    "FA",
    "GA",
    "LA",
    "LE",
    "LI",
    "LO",
    "MA",
    "ME",
    "MI",
    "NA",
    "NE",
    "NO",
    "PA",
    "RA",
    "RE",
    "RI",
    "SA",
    "TA",
)
_BASE = len(_SYLLABLES)
_NAME_LENGTH = 5  # 24**5 = 7,962,624 people at most
_FIRST_NAMES = {
    "F": ("MARIE", "JEANNE", "CAMILLE", "LEA", "CHLOE", "INES", "LOUISE", "EMMA", "SARAH"),
    "M": ("JEAN", "PIERRE", "LUCAS", "HUGO", "NATHAN", "LOUIS", "THOMAS", "PAUL", "ADAM"),
}
_COMMUNES = ("75056", "13055", "69123", "31555", "06088", "44109", "67482", "33063", "59350")
_EPOCH = date(1950, 1, 1)


def _digest(index: int, salt: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{salt}:{index}".encode(), digest_size=8).digest())


@dataclass(frozen=True)
class Person:
    """One synthetic person; providers derive their own records from ``index``."""

    index: int
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str
    date_naissance: date
    code_commune_naissance: str
    found: bool
    """False for the configured share of people that no provider knows."""

    code_pays_naissance: str = "99100"

    @cached_property
    def ine(self) -> str:
        """A student number: ten digits and a letter (the INE-RNIE form)."""
        return f"{self.index:010d}" + "ABCDEFGHJK"[self.index % 10]

    @cached_property
    def identifiant(self) -> str:
        """A provider-side identifier (France Travail, SDH...)."""
        return f"SYN{self.index:08d}"

    @cached_property
    def numero_fiscal(self) -> str:
        return f"39{self.index:011d}"

    def seed(self, salt: str) -> int:
        """A stable seed for a provider's own random draws about this person."""
        return _digest(self.index, salt)

    def params(self) -> dict[str, object]:
        """API Particulier's identity pivot parameters for this person."""
        return {
            "nomNaissance": self.nom_naissance,
            "prenoms": list(self.prenoms),
            "sexeEtatCivil": self.sexe,
            "anneeDateNaissance": self.date_naissance.year,
            "moisDateNaissance": self.date_naissance.month,
            "jourDateNaissance": self.date_naissance.day,
            "codeCogInseeCommuneNaissance": self.code_commune_naissance,
            "codeCogInseePaysNaissance": self.code_pays_naissance,
        }


class Population:
    """People ``0 .. size-1``; ``not_found_share`` of them are unknown to every provider."""

    def __init__(self, size: int = 1_000_000, *, not_found_share: float = 0.05) -> None:
        if not 0 < size <= _BASE**_NAME_LENGTH:
            raise ValueError(f"size must be between 1 and {_BASE**_NAME_LENGTH}")
        self.size = size
        self.not_found_share = not_found_share

    def person(self, index: int) -> Person:
        if not 0 <= index < self.size:
            raise IndexError(index)
        h = _digest(index, "person")
        sexe = "F" if h & 1 else "M"
        firsts = _FIRST_NAMES[sexe]
        prenoms: tuple[str, ...] = (firsts[(h >> 1) % len(firsts)],)
        if (h >> 8) % 3 == 0:
            prenoms += (firsts[(h >> 12) % len(firsts)],)
        born = _EPOCH + timedelta(days=(h >> 16) % (55 * 365))
        return Person(
            index=index,
            nom_naissance=self._name(index),
            prenoms=prenoms,
            sexe=sexe,
            date_naissance=born,
            code_commune_naissance=_COMMUNES[(h >> 40) % len(_COMMUNES)],
            found=(_digest(index, "found") % 10_000) >= self.not_found_share * 10_000,
        )

    def __iter__(self) -> Iterator[Person]:
        return (self.person(i) for i in range(self.size))

    @staticmethod
    def _name(index: int) -> str:
        parts = []
        for _ in range(_NAME_LENGTH):
            index, digit = divmod(index, _BASE)
            parts.append(_SYLLABLES[digit])
        return "".join(parts)

    def index_of_name(self, name: str) -> int | None:
        """Decode a birth name back to its index, or ``None`` if it is not synthetic."""
        name = name.strip().upper()
        if len(name) != 2 * _NAME_LENGTH:
            return None
        index = 0
        for pos in reversed(range(_NAME_LENGTH)):
            syllable = name[2 * pos : 2 * pos + 2]
            if syllable not in _SYLLABLES:
                return None
            index = index * _BASE + _SYLLABLES.index(syllable)
        return index if index < self.size else None

    def by_name(self, name: str) -> Person | None:
        index = self.index_of_name(name)
        return self.person(index) if index is not None else None

    def by_index_code(self, code: str, *, prefix: str = "", width: int = 0) -> Person | None:
        """Find a person by an identifier that embeds the index (INE, identifiant...)."""
        digits = code[len(prefix) :][:width] if width else code[len(prefix) :]
        if not code.startswith(prefix) or not digits.isdigit():
            return None
        index = int(digits)
        return self.person(index) if index < self.size else None

    def by_ine(self, ine: str) -> Person | None:
        person = self.by_index_code(ine.upper(), width=10)
        return person if person is not None and person.ine == ine.upper() else None

    def by_identifiant(self, identifiant: str) -> Person | None:
        person = self.by_index_code(identifiant.upper(), prefix="SYN")
        return person if person is not None and person.identifiant == identifiant.upper() else None

    def matches(self, person: Person, params: dict[str, object]) -> bool:
        """Whether identity params given to an upstream designate ``person``."""
        expected = person.params()
        for key in (
            "sexeEtatCivil",
            "anneeDateNaissance",
            "moisDateNaissance",
            "jourDateNaissance",
        ):
            value = params.get(key)
            if value is not None and str(value) != str(expected[key]):
                return False
        return True
