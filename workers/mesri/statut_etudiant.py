"""``mesri.statut_etudiant``: a student's admissions and enrolments in higher education,
API Particulier's ``/v3/mesri/statut_etudiant/identite|ine``."""

from __future__ import annotations

from broker.kit import Endpoint, declared

from ._upstream import BY_ANOMALY, ENVELOPE, StudentParams, request_of


class StatutEtudiantParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, birth date, ``sexeEtatCivil``...)."""


DATASET = declared(__package__, "statut_etudiant.v3.json").dataset(
    params=StatutEtudiantParams,
    request=request_of,
    errors=BY_ANOMALY,
    envelope=ENVELOPE,
)
ENDPOINT: Endpoint[StudentParams] = DATASET.endpoint

DATASETS = (DATASET,)
