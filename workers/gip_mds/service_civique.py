"""``gip_mds.service_civique``: current and past civic-service contracts of a person, API
Particulier's ``/v3/gip_mds/service_civique/identite``."""

from __future__ import annotations

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint

from ._upstream import ENVELOPE, SHAPE, GipMdsCivility, MatchingIndividuals, request_of


class OrganismeAccueil(BaseModel):
    siret: str | None = None
    raison_sociale: str | None = None


class Statut(BaseModel):
    contrat_trouve: bool | None = None
    organisme_accueil: OrganismeAccueil | None = None
    date_debut_contrat: str | None = None
    date_fin_contrat: str | None = None


class ServiceCiviqueData(BaseModel):
    statut_actuel: Statut | None = None
    statut_passe: Statut | None = None


ENDPOINT: Endpoint[GipMdsCivility] = MatchingIndividuals(
    request=request_of, shape=SHAPE, data=ServiceCiviqueData, errors={}, envelope=ENVELOPE
)


DATASET = Dataset(
    id="gip_mds.service_civique",
    version=3,
    route="/v3/gip_mds/service_civique/identite",
    title="Service civique",
    params=GipMdsCivility,
    scopes={
        "gip_mds_service_civique_statut_actuel": ("statut_actuel.contrat_trouve",),
        "gip_mds_service_civique_statut_passe": ("statut_passe.contrat_trouve",),
        "gip_mds_service_civique_organisme_accueil": (
            "statut_actuel.organisme_accueil",
            "statut_passe.organisme_accueil",
        ),
        "gip_mds_service_civique_dates": (
            "statut_actuel.date_debut_contrat",
            "statut_actuel.date_fin_contrat",
            "statut_passe.date_debut_contrat",
            "statut_passe.date_fin_contrat",
        ),
    },
    endpoint=ENDPOINT,
    france_connect=True,
    example_params={
        "nomNaissance": "DUPONT",
        "prenoms": ["MARIE", "LOUISE"],
        "anneeDateNaissance": 1998,
        "moisDateNaissance": 3,
        "jourDateNaissance": 15,
    },
)
