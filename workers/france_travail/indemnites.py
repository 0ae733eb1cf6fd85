"""``france_travail.indemnites``: the payments France Travail made to a person, API
Particulier's ``/v3/france_travail/indemnites/identifiant``."""

from __future__ import annotations

from broker.kit import declared

from ._upstream import seeker_dataset

DATASET = seeker_dataset(declared(__package__, "indemnites.v3.json"), "versements")
