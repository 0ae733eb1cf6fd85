"""FranceConnect's identity claims, read as API Particulier reads them: civility parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["IDENTITY_PARAMETERS", "carried", "civility_of", "claims_of"]

_BIRTHDATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")
_GENDERS = {"male": "M", "female": "F"}
IDENTITY_PARAMETERS = frozenset(
    {
        "nomNaissance",
        "prenoms",
        "sexeEtatCivil",
        "anneeDateNaissance",
        "moisDateNaissance",
        "jourDateNaissance",
        "codeCogInseeCommuneNaissance",
        "codeCogInseePaysNaissance",
    }
)
"""The parameters FranceConnect's identity stands for: the rest are the dataset's own."""


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


def claims_of(params: Mapping[str, Any]) -> dict[str, Any]:
    """The FranceConnect claims of the identity ``params`` describe: :func:`civility_of`'s
    inverse, for minting test tokens (simulator, conformance runs, demo)."""
    claims: dict[str, Any] = {}
    if "nomNaissance" in params:
        claims["family_name"] = params["nomNaissance"]
    prenoms = params.get("prenoms")
    if prenoms:
        given = prenoms.split() if isinstance(prenoms, str) else list(prenoms)
        claims["given_name"] = " ".join(given)
        claims["given_name_array"] = given
    genders = {v: k for k, v in _GENDERS.items()}
    if params.get("sexeEtatCivil") in genders:
        claims["gender"] = genders[params["sexeEtatCivil"]]
    if "anneeDateNaissance" in params:
        parts = [f"{int(params['anneeDateNaissance']):04d}"]
        for key in ("moisDateNaissance", "jourDateNaissance"):
            if key not in params:
                break
            parts.append(f"{int(params[key]):02d}")
        claims["birthdate"] = "-".join(parts)
    for key, claim in (
        ("codeCogInseeCommuneNaissance", "birthplace"),
        ("codeCogInseePaysNaissance", "birthcountry"),
    ):
        if params.get(key):
            claims[claim] = params[key]
    return claims


def carried(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as a FranceConnect request brings them to the provider: the dataset's own
    parameters, and the identity as a token minted for the identity in ``params`` gives it
    back (the simulators key FranceConnect-mode staging cases on it)."""
    own = {k: v for k, v in params.items() if k not in IDENTITY_PARAMETERS}
    identity = {k: v for k, v in params.items() if k in IDENTITY_PARAMETERS}
    return {**own, **civility_of(claims_of(identity))}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
