"""``mesri.statut_etudiant``: a student's admissions and enrolments in higher education,
API Particulier's ``/v3/mesri/statut_etudiant/identite|ine``."""

from __future__ import annotations

from broker.kit import Endpoint, declared

from ._upstream import BY_ANOMALY, ENVELOPE, StudentParams, request_of


class StatutEtudiantParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, birth date, ``sexeEtatCivil``...)."""


DECLARED = declared(__package__, "statut_etudiant.v3.json")

ENDPOINT: Endpoint[StudentParams] = Endpoint(
    request=request_of,
    record=DECLARED.record,
    errors=BY_ANOMALY,
    envelope=ENVELOPE,
)


DATASET = DECLARED.dataset(params=StatutEtudiantParams, endpoint=ENDPOINT)

DATASETS = (DATASET,)
