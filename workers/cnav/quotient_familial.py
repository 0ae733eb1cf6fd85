"""``cnav.quotient_familial``'s parameters: the identity pivot and the month it is asked for
(API Particulier's ``/v3/dss/quotient_familial/identite``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from broker.errors import BROKER
from broker.kit import ErrorCode

from ._upstream import CnavCivility


class QuotientFamilialParams(CnavCivility):
    annee: Annotated[int | None, ErrorCode(BROKER.PARAMS_INVALID), Field(ge=2000, le=2100)] = None
    mois: Annotated[int | None, ErrorCode(BROKER.PARAMS_INVALID), Field(ge=1, le=12)] = None
