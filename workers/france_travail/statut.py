"""``france_travail.statut``: job-seeker registration, identity, contact and address, API
Particulier's ``/v3/france_travail/statut/identifiant``."""

from __future__ import annotations

from broker.kit import declared

from ._upstream import seeker_dataset

DATASET = seeker_dataset(declared(__package__, "statut.v3.json"), "situation", under="demandeur")
