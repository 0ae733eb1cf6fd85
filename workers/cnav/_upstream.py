"""The CNAV upstream dialect, shared by every CNAV dataset.

``POST /v2/prestations/<prestation>/recherche`` with ``{"individu": {...}, "periode": {...}}``;
answers ``{"codeRetour": "00", "resultat": {...}}`` or an error body with another
``codeRetour``. The simulator and the worker both build requests with the endpoint that
:func:`prestation` declares, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from broker.errors import BROKER, ErrorSpec, ProviderErrors
from broker.kit import FRANCE, Civility, Dataset, Endpoint, Envelope, Shape, UpstreamRequest

ERRORS = ProviderErrors(label="CNAV", number=37)

OK = "00"
NOT_FOUND = "DOSSIER_ABSENT"
UNIDENTIFIABLE = "IDENTITE_NON_TRAITABLE"

"""France's COG code, as a birth country."""

ENVELOPE = Envelope(record="resultat", error="codeRetour", ok=OK)
"""A success is a 200 whose ``codeRetour`` is ``00``; any other code is looked up, whatever
the status."""


class CnavCivility(Civility):
    """CNAV finds a beneficiary with few fields: first names and birth date are optional."""


def identity_params(
    nom: str, prenoms: list[str], sexe: str, born: str, commune: str, *, nom_usage: str = ""
) -> dict[str, Any]:
    """API Particulier's civility params of a person born in France on ``born`` (ISO date) in
    ``commune``: the staging identities the datasets give as examples."""
    year, month, day = (int(part) for part in born.split("-"))
    return {
        "nomNaissance": nom,
        **({"nomUsage": nom_usage} if nom_usage else {}),
        "prenoms": prenoms,
        "sexeEtatCivil": sexe,
        "anneeDateNaissance": year,
        "moisDateNaissance": month,
        "jourDateNaissance": day,
        "codeCogInseeCommuneNaissance": commune,
        "codeCogInseePaysNaissance": FRANCE,
    }


def path_of(prestation: str) -> str:
    """The upstream path of a prestation segment (``qf``, ``rsa``...)."""
    return f"v2/prestations/{prestation}/recherche"


def request_body(params: Civility) -> dict[str, Any]:
    """The upstream request body for ``params``."""
    body: dict[str, Any] = {
        "individu": {
            "nomNaissance": params.nomNaissance,
            "nomUsage": params.nomUsage,
            "prenoms": " ".join(params.prenoms) if params.prenoms else None,
            "sexe": params.sexeEtatCivil,
            "dateNaissance": params.birth_date_text(),
            "lieuNaissance": {
                "commune": params.codeCogInseeCommuneNaissance,
                "pays": params.codeCogInseePaysNaissance,
            },
        }
    }
    periode = {k: getattr(params, k) for k in ("annee", "mois") if getattr(params, k, None)}
    if periode:
        body["periode"] = periode
    return body


def prestation(
    name: str,
    *,
    path: str,
    title: str,
    params: type[CnavCivility],
    shape: Shape,
    data: type[BaseModel],
    scopes: Mapping[str, Sequence[str]],
    example_params: Mapping[str, Any],
    not_found: ErrorSpec = ERRORS.not_found,
) -> Dataset:
    """A CNAV dataset: API Particulier's ``/v3/dss/<name>/identite``, searched on the
    prestation segment ``path``; ``not_found`` answers when the CNAV holds no file."""
    endpoint: Endpoint[Civility] = Endpoint(
        request=lambda civility: UpstreamRequest(
            "POST", path_of(path), body=request_body(civility)
        ),
        shape=shape,
        data=data,
        errors={NOT_FOUND: not_found, UNIDENTIFIABLE: BROKER.CIVILITY_INVALID},
        envelope=ENVELOPE,
    )
    return Dataset(
        id=f"cnav.{name}",
        version=3,
        route=f"/v3/dss/{name}/identite",
        title=title,
        params=params,
        scopes=scopes,
        endpoint=endpoint,
        france_connect=True,
        example_params=example_params,
    )
