"""``cnous.etudiant_boursier``: a student's grant (échelon, payment period, place of study),
API Particulier's ``/v3/cnous/etudiant_boursier/identite|ine`` (version 3) and
``/v4/cnous/etudiant_boursier/identite|ine`` (version 4, with the withdrawal status)."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel

from broker.kit import Dataset, Endpoint

from ._upstream import APIS, BY_ERROR, ENVELOPE, SHAPES, StudentParams, request_of

Echelon = Literal["0bis", "1", "2", "3", "4", "5", "6", "7"]


class EtudiantBoursierParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, ``prenoms``, birth date...)."""


class PeriodeVersement(BaseModel):
    date_rentree: str | None = None
    duree: int | float | None = None


class EtablissementEtudes(BaseModel):
    nom_commune: str | None = None
    nom_etablissement: str | None = None


class EchelonBourse(BaseModel):
    echelon: Echelon | None = None
    echelon_bourse_regionale_provisoire: bool | None = None


class IdentiteBoursier(BaseModel):
    nom: str | None = None
    prenoms: list[str] | None = None
    date_naissance: str | None = None
    nom_commune_naissance: str | None = None
    sexe: Literal["F", "M"] | None = None


class StatutBoursier(BaseModel):
    est_boursier: bool | None = None
    est_radie: bool | None = None
    date_radiation: str | None = None


class EtudiantBoursierV3(BaseModel):
    est_boursier: bool | None = None
    periode_versement_bourse: PeriodeVersement | None = None
    etablissement_etudes: EtablissementEtudes | None = None
    echelon_bourse: EchelonBourse | None = None
    email: str | None = None
    identite: IdentiteBoursier


class EtudiantBoursierV4(BaseModel):
    statut_boursier: StatutBoursier
    periode_versement_bourse: PeriodeVersement | None = None
    etablissement_etudes: EtablissementEtudes | None = None
    echelon_bourse: EchelonBourse | None = None
    email: str | None = None
    identite: IdentiteBoursier


DATA: dict[int, type[BaseModel]] = {3: EtudiantBoursierV3, 4: EtudiantBoursierV4}

ENDPOINTS: dict[int, Endpoint[StudentParams]] = {
    version: Endpoint(
        request=partial(request_of, api),
        shape=SHAPES[version],
        data=DATA[version],
        errors=BY_ERROR,
        envelope=ENVELOPE,
    )
    for version, api in APIS.items()
}
"""Dataset version -> the register's endpoint serving it."""


def _scopes(statut: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """API Particulier's serializer: one group per scope; ``cnous_statut_bourse`` (a v2 field)
    and ``cnous_ine`` (a v5 field) unmask nothing in these versions."""
    return {
        "cnous_statut_boursier": statut,
        "cnous_echelon_bourse": ("echelon_bourse",),
        "cnous_email": ("email",),
        "cnous_periode_versement": ("periode_versement_bourse",),
        "cnous_statut_bourse": (),
        "cnous_ville_etudes": ("etablissement_etudes",),
        "cnous_identite": ("identite",),
        "cnous_ine": (),
    }


def _dataset(version: int, statut: str, example_params: dict[str, Any]) -> Dataset:
    return Dataset(
        id="cnous.etudiant_boursier",
        version=version,
        route=f"/v{version}/cnous/etudiant_boursier/{{identite,ine}}",
        title="Statut étudiant boursier",
        params=EtudiantBoursierParams,
        scopes=_scopes((statut,)),
        endpoint=ENDPOINTS[version],
        france_connect=True,
        example_params=example_params,
    )


DATASETS = (
    _dataset(3, "est_boursier", {"ine": "1234567890A"}),
    _dataset(
        4,
        "statut_boursier",
        {
            "nomNaissance": "Pagnol",
            "prenoms": ["Marcel"],
            "anneeDateNaissance": 1998,
            "moisDateNaissance": 7,
            "jourDateNaissance": 12,
            "codeCogInseeCommuneNaissance": "75000",
            "sexeEtatCivil": "M",
        },
    ),
)
