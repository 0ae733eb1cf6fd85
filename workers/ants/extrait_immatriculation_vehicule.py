"""``ants.extrait_immatriculation_vehicule``: a vehicle's registration extract for the citizen
attached to it, API Particulier's ``/v3/ants/extrait_immatriculation_vehicule/france_connect``
(FranceConnect mode only: the citizen proves who they are by signing in)."""

from __future__ import annotations

from typing import cast

from broker.kit import declared

from ._upstream import ENVELOPE, ERRORS, UNKNOWN_FILE, Registration, RegistrationParams, request_of

DATASET = declared(__package__, "extrait_immatriculation_vehicule.v3.json").dataset(
    params=RegistrationParams,
    request=request_of,
    errors={UNKNOWN_FILE: ERRORS.not_found},
    envelope=ENVELOPE,
    endpoint=Registration,
)
ENDPOINT = cast(Registration, DATASET.endpoint)
