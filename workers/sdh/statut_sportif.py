"""``sdh.statut_sportif``: high-level athlete status (and national squads, referees and
judges lists), API Particulier's ``/v3/sdh/statut_sportif/identifiant``."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from broker.datasets import Dataset
from broker.errors import BROKER, ProblemError
from broker.population import Person, Population
from broker.upstream import UpstreamCall

from ._dialect import ERRORS, REJECTED_IDENTIFIER, RENAMING, UNKNOWN_ATHLETE, SdhParams, path_of

AS_OF = date(2025, 1, 1)
"""Synthetic records are dated as of this day, so that a person's answer never changes."""


class Identite(BaseModel):
    nom_naissance: str | None = None
    nom_usage: str | None = None
    prenoms: str | None = None
    date_naissance: str | None = None
    sexe: Literal["F", "M"] | None = None


class Periode(BaseModel):
    date_debut_statut: str | None = None
    date_fin_statut: str | None = None


class Federation(BaseModel):
    code_federation: str | None = None
    nom_federation: str | None = None
    nom_court_federation: str | None = None


class Etablissement(BaseModel):
    code_etablissement: str | None = None
    nom_etablissement: str | None = None


class Region(BaseModel):
    code_region: str | None = None
    nom_region: str | None = None


class Categorie(BaseModel):
    code_categorie: str | None = None
    nom_categorie: str | None = None
    valeur: str | None = None


class InformationsStatut(BaseModel):
    periode: Periode | None = None
    federation: Federation | None = None
    etablissement: Etablissement | None = None
    region: Region | None = None
    categorie: Categorie | None = None
    sportif_de_haut_niveau: bool | None = None


class StatutPrecedent(InformationsStatut):
    fiche: int | None = None


class StatutSportifData(BaseModel):
    identite: Identite | None = None
    est_sportif_de_haut_niveau: bool | None = None
    a_ete_sportif_de_haut_niveau: bool | None = None
    informations_statut: InformationsStatut | None = None
    informations_statuts_precedents: list[StatutPrecedent] | None = None


async def fetch(call: UpstreamCall, params: SdhParams) -> dict[str, Any]:
    response = await call.request("GET", path_of(params.identifiant))
    body = call.json(response)
    if not isinstance(body, dict):
        raise call.invalid()
    if response.status_code == 200:
        return decode(call, body)
    code = body.get("code")
    if code == UNKNOWN_ATHLETE:
        raise ProblemError(ERRORS.not_found)
    if code == REJECTED_IDENTIFIER:
        raise ProblemError(BROKER.PARAMS_INVALID)
    raise call.invalid()


def decode(call: UpstreamCall, body: dict[str, Any]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = RENAMING.decode(body)
        StatutSportifData.model_validate(data)
    except (TypeError, ValidationError):
        raise call.invalid() from None
    return data


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """API shape -> the upstream's 200 body (used by the simulator)."""
    encoded: dict[str, Any] = RENAMING.encode(data)
    return encoded


def identifiant_of(person: Person) -> str:
    """A synthetic athlete's identifier: the person's index, on at least five digits."""
    return f"{person.index:05d}"


def person_of(population: Population, identifiant: str) -> Person | None:
    if not identifiant.isdigit():
        return None
    index = int(identifiant)
    if index >= population.size or f"{index:05d}" != identifiant:
        return None
    return population.person(index)


_FEDERATIONS = (
    ("29", "Fédération française de handball", "HANDBALL"),
    ("69", "Fédération française de triathlon", "TRIATHLON"),
    ("12", "Fédération française d'athlétisme", "ATHLETISME"),
    ("41", "Fédération française de natation", "NATATION"),
)
_CENTRES = (
    ("2075", "Maison de la Performance Nouvelle-Aquitaine", "75", "Nouvelle-Aquitaine"),
    ("1093", "Maison de la Performance Occitanie", "76", "Occitanie"),
    ("1011", "INSEP", "11", "Île-de-France"),
)
_CATEGORIES = (("1", "Elite"), ("2", "Senior"), ("3", "Relève"), ("4", "Reconversion"))


def _fiche(rng: random.Random, start: date, high_level: bool) -> dict[str, Any]:
    code_f, federation, short = rng.choice(_FEDERATIONS)
    code_e, centre, code_r, region = rng.choice(_CENTRES)
    code_c, category = rng.choice(_CATEGORIES)
    return {
        "periode": {
            "date_debut_statut": start.isoformat(),
            "date_fin_statut": (start + timedelta(days=365 * 2 - 1)).isoformat(),
        },
        "federation": {
            "code_federation": code_f,
            "nom_federation": federation,
            "nom_court_federation": short,
        },
        "etablissement": {"code_etablissement": code_e, "nom_etablissement": centre},
        "region": {"code_region": code_r, "nom_region": region},
        "categorie": {
            "code_categorie": code_c,
            "nom_categorie": category,
            "valeur": str(rng.randrange(1, 200)),
        },
        "sportif_de_haut_niveau": high_level,
    }


def synthesize(person: Person, rng: random.Random) -> dict[str, Any]:
    """An athlete on a ministerial list, high-level or not, with 0 to 2 previous records."""
    high_level = rng.random() < 0.4
    start = date(AS_OF.year - 1, 1, 1)
    previous = []
    for n in range(rng.randrange(0, 3), 0, -1):
        fiche = _fiche(rng, start - timedelta(days=730 * n), rng.random() < 0.5)
        previous.append({"fiche": rng.randrange(100_000, 999_999), **fiche})
    return {
        "identite": {
            "nom_naissance": person.nom_naissance,
            "nom_usage": None,
            "prenoms": " ".join(person.prenoms),
            "date_naissance": person.date_naissance.isoformat(),
            "sexe": person.sexe,
        },
        "est_sportif_de_haut_niveau": high_level,
        "a_ete_sportif_de_haut_niveau": high_level
        or any(p["sportif_de_haut_niveau"] for p in previous),
        "informations_statut": _fiche(rng, start, high_level),
        "informations_statuts_precedents": previous,
    }


DATASET = Dataset(
    id="sdh.statut_sportif",
    version=3,
    route="/v3/sdh/statut_sportif/identifiant",
    title="Statut sportif de haut niveau",
    params=SdhParams,
    data=StatutSportifData,
    scopes={
        "sdh_statut_sportif_identite": ("identite",),
        "sdh_statut_sportif_est_sportif_de_haut_niveau": ("est_sportif_de_haut_niveau",),
        "sdh_statut_sportif_a_ete_sportif_de_haut_niveau": ("a_ete_sportif_de_haut_niveau",),
        "sdh_statut_sportif_informations_statut": ("informations_statut",),
        "sdh_statut_sportif_informations_statuts_precedents": ("informations_statuts_precedents",),
    },
    fetch=fetch,
    example_params={"identifiant": "00007"},
)
