"""``mesri.statut_etudiant``: a student's admissions and enrolments in higher education,
API Particulier's ``/v3/mesri/statut_etudiant/identite|ine``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from broker.kit import Dataset, Endpoint

from ._upstream import BY_ANOMALY, ENVELOPE, SHAPE, StudentParams, request_of

RegimeCode = Literal["RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "RF7"]


class StatutEtudiantParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, birth date, ``sexeEtatCivil``...)."""


class IdentiteEtudiant(BaseModel):
    nom_naissance: str | None = None
    prenom: str | None = None
    date_naissance: str | None = None


class RegimeFormation(BaseModel):
    libelle: str | None = None
    code: RegimeCode | None = None


class EtablissementEtudes(BaseModel):
    uai: Annotated[str | None, Field(pattern=r"^\d{7}\w$")] = None
    nom: str | None = None


class Admission(BaseModel):
    date_debut: str | None = None
    date_fin: str | None = None
    est_inscrit: bool | None = None
    regime_formation: RegimeFormation | None = None
    code_cog_insee_commune: str | None = None
    etablissement_etudes: EtablissementEtudes | None = None


class StatutEtudiantData(BaseModel):
    identite: IdentiteEtudiant
    admissions: list[Admission]


ENDPOINT: Endpoint[StudentParams] = Endpoint(
    request=request_of, shape=SHAPE, data=StatutEtudiantData, errors=BY_ANOMALY, envelope=ENVELOPE
)


DATASET = Dataset(
    id="mesri.statut_etudiant",
    version=3,
    route="/v3/mesri/statut_etudiant/{identite,ine}",
    title="Statut étudiant",
    params=StatutEtudiantParams,
    scopes={
        "mesri_identite": ("identite",),
        "mesri_admissions": ("admissions.date_debut", "admissions.date_fin"),
        "mesri_admission_inscrit": ("admissions.est_inscrit",),
        "mesri_admission_regime_formation": ("admissions.regime_formation",),
        "mesri_admission_commune_etudes": ("admissions.code_cog_insee_commune",),
        "mesri_admission_etablissement_etudes": ("admissions.etablissement_etudes",),
    },
    endpoint=ENDPOINT,
    france_connect=True,
    example_params={
        "nomNaissance": "MELINARD",
        "prenoms": ["PATRICK"],
        "anneeDateNaissance": 1990,
        "moisDateNaissance": 1,
        "jourDateNaissance": 1,
        "sexeEtatCivil": "M",
        "codeCogInseeCommuneNaissance": "78000",
    },
)

DATASETS = (DATASET,)
