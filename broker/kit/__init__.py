"""The provider kit: what a provider package declares its datasets with.

A provider package declares each dataset in a JSON file (:func:`declared`: route, scopes,
example, the schema of its data and each field's upstream name) and, in Python, its parameters
(:class:`Params`, :class:`Civility`) and its upstream :class:`Endpoint`; the worker runtime and
the simulators read only these declarations.
See ``docs/architecture.md``, "Adding a dataset".
"""

from ._civility import (
    FRANCE,
    INE_PATTERN,
    Civility,
    IneOrCivility,
    identifier_text,
    ine_text,
    normalise_name,
)
from ._dataset import (
    FRANCE_CONNECT_IDENTITY,
    Dataset,
    ErrorCode,
    Params,
    ParamsProblem,
    Provider,
    mask,
    validate_params,
)
from ._declaration import Declaration, VersionedUpstream, declared
from ._endpoint import Answer, Endpoint, Envelope, Refusal, UpstreamRequest
from ._renaming import Record, Renaming, Shape
from ._upstream import Upstream, UpstreamCall, UpstreamResponse

__all__ = [
    "FRANCE",
    "FRANCE_CONNECT_IDENTITY",
    "INE_PATTERN",
    "Answer",
    "Civility",
    "Dataset",
    "Declaration",
    "Endpoint",
    "Envelope",
    "ErrorCode",
    "IneOrCivility",
    "Params",
    "ParamsProblem",
    "Provider",
    "Record",
    "Refusal",
    "Renaming",
    "Shape",
    "Upstream",
    "UpstreamCall",
    "UpstreamRequest",
    "UpstreamResponse",
    "VersionedUpstream",
    "declared",
    "identifier_text",
    "ine_text",
    "mask",
    "normalise_name",
    "validate_params",
]
