"""API Particulier's identity pivot ("paramètres de civilité"), shared by every provider
that finds a person by civil status.

Providers subclass :class:`Civility` and say which parameters they require; the rules that
API Particulier applies to all of them (date coherence, birthplace in France) live here once,
and so do the rules that only some routes apply (letters-only names), switched on by a class
attribute. Providers that also find a student by INE subclass :class:`IneOrCivility`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ..errors import BROKER, ErrorSpec
from ._dataset import FRANCE_CONNECT_IDENTITY, ErrorCode, Params, ParamsProblem

__all__ = [
    "FRANCE",
    "INE_PATTERN",
    "Civility",
    "IneOrCivility",
    "identifier_text",
    "ine_text",
    "normalise_name",
]

FRANCE = "99100"
_Civ = ErrorCode(BROKER.CIVILITY_INVALID)

_LETTERS = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ'’ -]+$")
"""What API Particulier accepts in a name where it checks names: letters, spaces, hyphens and
apostrophes."""

INE_PATTERN = r"^[0-9A-Z]{11}$"
"""A student's INE (identifiant national étudiant) once :func:`ine_text` has read it."""


def normalise_name(value: str) -> str:
    """Upper case without accents or repeated spaces: how the pseudonym sees a name."""
    stripped = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(c for c in stripped if not unicodedata.combining(c))
    return " ".join(ascii_only.upper().split())


class Civility(Params):
    """The identity pivot, with API Particulier v3's parameter names."""

    invalid: ClassVar[ErrorSpec] = BROKER.CIVILITY_INVALID
    required: ClassVar[frozenset[str]] = frozenset(
        {"nomNaissance", "sexeEtatCivil", "codeCogInseePaysNaissance"}
    )
    """API names a provider requires; the others stay optional."""
    requires_birthplace_in_france: ClassVar[bool] = True
    """Born in France (``99100``): the commune is needed, as a COG code or name+département."""
    letters_only_names: ClassVar[bool] = False
    """Names and first names hold letters, spaces, hyphens and apostrophes only, as API
    Particulier checks them on some routes (``00366`` otherwise)."""

    nomNaissance: Annotated[str | None, _Civ, Field(min_length=1, max_length=100)] = None
    nomUsage: Annotated[str | None, _Civ, Field(max_length=100)] = None
    prenoms: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]] | None, _Civ, Field(max_length=10)
    ] = None
    sexeEtatCivil: Annotated[Literal["F", "M"] | None, _Civ] = None
    anneeDateNaissance: Annotated[int | None, _Civ, Field(ge=1900, le=2100)] = None
    moisDateNaissance: Annotated[int | None, _Civ, Field(ge=1, le=12)] = None
    jourDateNaissance: Annotated[int | None, _Civ, Field(ge=1, le=31)] = None
    codeCogInseePaysNaissance: Annotated[str | None, _Civ, Field(pattern=r"^99\d{3}$")] = None
    codeCogInseeCommuneNaissance: Annotated[
        str | None, _Civ, Field(pattern=r"^(\d{5}|\d[AB]\d{3})$")
    ] = None
    nomCommuneNaissance: Annotated[str | None, _Civ, Field(min_length=1, max_length=100)] = None
    codeCogInseeDepartementNaissance: Annotated[
        str | None, _Civ, Field(pattern=r"^(\d{2,3}|2[AB])$")
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _query_style_first_names(cls, value: Any) -> Any:
        """``prenoms[]`` is how API Particulier's query string names the first names."""
        if isinstance(value, dict) and "prenoms" not in value and "prenoms[]" in value:
            return {**value, "prenoms": value["prenoms[]"]}
        return value

    @field_validator("prenoms", mode="before")
    @classmethod
    def _one_first_name_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("nomNaissance", "nomUsage")
    @classmethod
    def _name_letters(cls, value: str | None) -> str | None:
        if cls.letters_only_names and value and not _LETTERS.match(value):
            raise ValueError("unexpected character")
        return value

    @field_validator("prenoms")
    @classmethod
    def _first_name_letters(cls, value: list[str] | None) -> list[str] | None:
        if cls.letters_only_names and not all(_LETTERS.match(p) for p in value or []):
            raise ValueError("unexpected character")
        return value

    @field_validator("sexeEtatCivil", mode="before")
    @classmethod
    def _sex_upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "codeCogInseePaysNaissance",
        "codeCogInseeCommuneNaissance",
        "codeCogInseeDepartementNaissance",
        mode="before",
    )
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        return str(value).upper() if isinstance(value, int | str) else value

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Civility:
        vouched = _vouched(info)
        for name in sorted(self.required) if not vouched else ():
            value = getattr(self, name)
            if value is None or value == []:
                raise ParamsProblem(self._missing_spec(name), name)
        if self.moisDateNaissance is not None and self.anneeDateNaissance is None:
            raise ParamsProblem(BROKER.CIVILITY_INVALID, "anneeDateNaissance")
        if self.jourDateNaissance is not None and self.moisDateNaissance is None:
            raise ParamsProblem(BROKER.CIVILITY_INVALID, "moisDateNaissance")
        if self.jourDateNaissance is not None:
            assert self.anneeDateNaissance is not None and self.moisDateNaissance is not None
            try:
                born = date(self.anneeDateNaissance, self.moisDateNaissance, self.jourDateNaissance)
            except ValueError:
                raise ParamsProblem(BROKER.CIVILITY_INVALID, "jourDateNaissance") from None
            if born > date.today():
                raise ParamsProblem(BROKER.CIVILITY_INVALID, "anneeDateNaissance")
        if (
            self.requires_birthplace_in_france
            and not vouched
            and self.codeCogInseePaysNaissance == FRANCE
            and self.codeCogInseeCommuneNaissance is None
        ):
            resolved = self._resolve_commune()
            if resolved is None:
                raise ParamsProblem(BROKER.CIVILITY_INVALID, "codeCogInseeCommuneNaissance")
            object.__setattr__(self, "codeCogInseeCommuneNaissance", resolved)
        return self

    @classmethod
    def _missing_spec(cls, name: str) -> ErrorSpec:
        return (
            BROKER.SEX_MISSING if name == "sexeEtatCivil" and cls.sex_missing_code else cls.invalid
        )

    sex_missing_code: ClassVar[bool] = False
    """Answer ``00427`` rather than ``00366`` when the sex is missing (DSNJ's rule)."""

    def _resolve_commune(self) -> str | None:
        """Transcogage: birth commune name + département + year -> COG code."""
        if not (self.nomCommuneNaissance and self.codeCogInseeDepartementNaissance):
            return None
        if self.anneeDateNaissance is None:
            return None
        from ..identity.cog import resolve_birthplace

        return resolve_birthplace(
            self.nomCommuneNaissance, self.codeCogInseeDepartementNaissance, self.anneeDateNaissance
        )

    def birth_date_text(self) -> str | None:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: as much of the birth date as was given."""
        if self.anneeDateNaissance is None:
            return None
        text = f"{self.anneeDateNaissance:04d}"
        if self.moisDateNaissance is not None:
            text += f"-{self.moisDateNaissance:02d}"
            if self.jourDateNaissance is not None:
                text += f"-{self.jourDateNaissance:02d}"
        return text

    def subject(self) -> dict[str, Any]:
        subject: dict[str, Any] = {
            "nom": normalise_name(self.nomNaissance or ""),
            "prenoms": [normalise_name(p) for p in self.prenoms or []],
            "sexe": self.sexeEtatCivil,
            "naissance": self.birth_date_text(),
            "lieu": self.codeCogInseeCommuneNaissance or self.codeCogInseePaysNaissance,
        }
        return {k: v for k, v in subject.items() if v not in (None, "", [])}


def _vouched(info: ValidationInfo) -> bool:
    """An identity FranceConnect vouches for: API Particulier passes it to the provider as
    FranceConnect gives it, without requiring what a typed identity must hold."""
    return bool((info.context or {}).get(FRANCE_CONNECT_IDENTITY))


def identifier_text(value: Any) -> Any:
    """Identifiers are text: a number given as such is read as its digits; spaces around go."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def ine_text(value: Any) -> Any:
    """INE letters are upper case; surrounding spaces are a typing slip."""
    return value.strip().upper() if isinstance(value, str) else value


class IneOrCivility(Civility):
    """Either pivot: the INE alone (API Particulier's ``/ine`` route), or the identity
    (``/identite`` route).

    With an INE the identity parameters are ignored, as the ``/ine`` route ignores them, and
    the INE alone is the subject. Without one, the parameters of :attr:`identity_required`
    are required, and a birth commune given by name is resolved to its COG code (whatever the
    birth country).
    """

    @staticmethod
    def refusals(*, identity: str, ine: str) -> dict[str, ErrorSpec]:
        """An upstream's codes refusing either pivot -> what the broker answers for that pivot
        given invalid."""
        return {identity: BROKER.CIVILITY_INVALID, ine: BROKER.INE_INVALID}

    required: ClassVar[frozenset[str]] = frozenset()
    identity_required: ClassVar[tuple[str, ...]] = ("nomNaissance",)
    """Required when no INE is given, in the order they are checked."""
    requires_birthplace_in_france: ClassVar[bool] = False

    ine: Annotated[
        Annotated[str, Field(pattern=INE_PATTERN)] | None,
        ErrorCode(BROKER.INE_INVALID),
        BeforeValidator(ine_text),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _ine_alone(cls, data: Any) -> Any:
        """The INE route takes the INE only: identity parameters beside it are not read."""
        if isinstance(data, Mapping) and data.get("ine") is not None:
            return {"ine": data["ine"]}
        return data

    @model_validator(mode="after")
    def _either_pivot(self, info: ValidationInfo) -> Self:
        if self.ine is not None:
            return self
        for name in self.identity_required if not _vouched(info) else ():
            value = getattr(self, name)
            if value is None or value == []:
                raise ParamsProblem(self._missing_spec(name), name)
        if self.codeCogInseeCommuneNaissance is None and self.nomCommuneNaissance is not None:
            resolved = self._resolve_commune()
            if resolved is None:
                raise ParamsProblem(BROKER.CIVILITY_INVALID, "nomCommuneNaissance")
            object.__setattr__(self, "codeCogInseeCommuneNaissance", resolved)
        return self

    def subject(self) -> dict[str, Any]:
        return {"ine": self.ine} if self.ine is not None else super().subject()
