"""FranceConnect's identity claims, read as API Particulier reads them: civility parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["civility_of"]

_BIRTHDATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")
_GENDERS = {"male": "M", "female": "F"}


def civility_of(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The identity FranceConnect gives, in API Particulier v3's parameter names.

    ``family_name`` is the birth name; first names come from ``given_name_array``, else from
    ``given_name`` split on spaces; a ``birthdate`` may lack its day, or its day and month
    (identities FranceConnect holds only partly); ``birthplace`` and ``birthcountry`` are COG
    codes (the commune is empty for people born abroad). Claims that are absent or empty are
    left out, so that the dataset's own validation says what is missing.
    """
    params: dict[str, Any] = {}
    if family := _text(claims.get("family_name")):
        params["nomNaissance"] = family
    given = claims.get("given_name_array")
    if not (isinstance(given, list) and all(isinstance(g, str) for g in given) and given):
        given = (_text(claims.get("given_name")) or "").split()
    if prenoms := [g.strip() for g in given if g.strip()]:
        params["prenoms"] = prenoms
    if gender := _GENDERS.get(str(claims.get("gender", "")).lower()):
        params["sexeEtatCivil"] = gender
    if match := _BIRTHDATE.match(_text(claims.get("birthdate")) or ""):
        params["anneeDateNaissance"] = int(match["year"])
        if match["month"]:
            params["moisDateNaissance"] = int(match["month"])
        if match["day"]:
            params["jourDateNaissance"] = int(match["day"])
    if birthplace := _text(claims.get("birthplace")):
        params["codeCogInseeCommuneNaissance"] = birthplace
    if birthcountry := _text(claims.get("birthcountry")):
        params["codeCogInseePaysNaissance"] = birthcountry
    return params


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
