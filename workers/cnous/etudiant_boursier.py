"""``cnous.etudiant_boursier``: a student's grant (échelon, payment period, place of study),
API Particulier's ``/v3/cnous/etudiant_boursier/identite|ine`` (version 3) and
``/v4/cnous/etudiant_boursier/identite|ine`` (version 4, with the withdrawal status).

As in API Particulier's serializer, ``cnous_statut_bourse`` (a v2 field) and ``cnous_ine`` (a
v5 field) unmask nothing in these versions."""

from __future__ import annotations

from typing import Literal

from ._upstream import REGISTER, StudentParams

Echelon = Literal["0bis", "1", "2", "3", "4", "5", "6", "7"]


class EtudiantBoursierParams(StudentParams):
    """``ine``, or the identity pivot (``nomNaissance``, ``prenoms``, birth date...)."""


DATASETS = REGISTER.datasets(__package__, "etudiant_boursier", EtudiantBoursierParams)
