"""``cnous.etudiant_boursier``: a student's grant (échelon, payment period, place of study),
API Particulier's ``/v3/cnous/etudiant_boursier/identite|ine`` (version 3) and
``/v4/cnous/etudiant_boursier/identite|ine`` (version 4, with the withdrawal status).

As in API Particulier's serializer, ``cnous_statut_bourse`` (a v2 field) and ``cnous_ine`` (a
v5 field) unmask nothing in these versions."""

from __future__ import annotations

from typing import Literal

from broker.kit import Endpoint, declared_versions

from ._upstream import APIS, BY_ERROR, ENVELOPE, StudentParams, request_of

Echelon = Literal["0bis", "1", "2", "3", "4", "5", "6", "7"]


class EtudiantBoursierParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, ``prenoms``, birth date...)."""


DATASETS = declared_versions(
    __package__,
    "etudiant_boursier",
    APIS,
    params=EtudiantBoursierParams,
    request=request_of,
    errors=BY_ERROR,
    envelope=ENVELOPE,
)

ENDPOINTS: dict[int, Endpoint[StudentParams]] = {d.version: d.endpoint for d in DATASETS}
"""Dataset version -> the register's endpoint serving it."""
