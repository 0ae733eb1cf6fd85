"""``sdh.statut_sportif``: high-level athlete status (and national squads, referees and
judges lists), API Particulier's ``/v3/sdh/statut_sportif/identifiant``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from broker.errors import BROKER
from broker.kit import Dataset, Endpoint, UpstreamRequest

from ._upstream import ERRORS, REJECTED_IDENTIFIER, SHAPE, UNKNOWN_ATHLETE, SdhParams, path_of


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


ENDPOINT: Endpoint[SdhParams] = Endpoint(
    request=lambda params: UpstreamRequest("GET", path_of(params.identifiant)),
    shape=SHAPE,
    data=StatutSportifData,
    errors={UNKNOWN_ATHLETE: ERRORS.not_found, REJECTED_IDENTIFIER: BROKER.PARAMS_INVALID},
)


DATASET = Dataset(
    id="sdh.statut_sportif",
    version=3,
    route="/v3/sdh/statut_sportif/identifiant",
    title="Statut sportif de haut niveau",
    params=SdhParams,
    scopes={
        "sdh_statut_sportif_identite": ("identite",),
        "sdh_statut_sportif_est_sportif_de_haut_niveau": ("est_sportif_de_haut_niveau",),
        "sdh_statut_sportif_a_ete_sportif_de_haut_niveau": ("a_ete_sportif_de_haut_niveau",),
        "sdh_statut_sportif_informations_statut": ("informations_statut",),
        "sdh_statut_sportif_informations_statuts_precedents": ("informations_statuts_precedents",),
    },
    endpoint=ENDPOINT,
    example_params={"identifiant": "00007"},
)
