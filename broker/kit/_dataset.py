"""How a provider package declares its datasets.

A :class:`Provider` groups the :class:`Dataset` declarations of one data provider with its
error catalogue. The broker core reads only these declarations: it never imports a provider by
name (see :mod:`broker.registry`). A provider's simulator lives apart, in its package's
``simulator`` module, which only the simulation wing imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import BROKER, ErrorSpec, ProblemError, ProviderErrors

if TYPE_CHECKING:
    from ._endpoint import Endpoint
    from ._renaming import Record
    from ._upstream import UpstreamCall

__all__ = [
    "Dataset",
    "ErrorCode",
    "Params",
    "ParamsProblem",
    "Provider",
    "mask",
    "validate_params",
]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """``Annotated`` marker: the error answered when this parameter is invalid."""

    spec: ErrorSpec


class ParamsProblem(ValueError):
    """Raised by a params validator to answer with a precise code (e.g. exclusive params)."""

    def __init__(self, spec: ErrorSpec, parameter: str | None = None) -> None:
        super().__init__(spec.code)
        self.spec = spec
        self.parameter = parameter


class Params(BaseModel):
    """Base of every dataset's parameters, named as API Particulier v3 names them.

    Unknown parameters are ignored, as API Particulier does.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    invalid: ClassVar[ErrorSpec] = BROKER.PARAMS_INVALID
    """Answered for an invalid parameter whose field carries no :class:`ErrorCode`."""

    def subject(self) -> dict[str, Any]:
        """The normalised identifiers of the person: the input of the journal's pseudonym."""
        return self.model_dump(mode="json", exclude_none=True)


FRANCE_CONNECT_IDENTITY = "france_connect"
"""Validation context key: the identity comes from FranceConnect, which vouches for it, so it
goes to the provider as it is (a validator may relax what it requires of a typed identity)."""


def validate_params(
    model: type[Params], raw: Mapping[str, Any], *, france_connect: bool = False
) -> Params:
    """Validate ``raw`` into ``model`` or raise :class:`ProblemError` naming the parameter."""
    try:
        return model.model_validate(raw, context={FRANCE_CONNECT_IDENTITY: france_connect})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        ctx = first.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, ParamsProblem):
            raise ProblemError(cause.spec, parameter=cause.parameter) from None
        loc = first.get("loc") or ()
        name = str(loc[0]) if loc else None
        spec = model.invalid
        if name is not None:
            info = model.model_fields.get(name)
            if info is None:
                info = next((f for f in model.model_fields.values() if f.alias == name), None)
            if info is not None:
                name = info.alias or name
                marker = next((m for m in info.metadata if isinstance(m, ErrorCode)), None)
                if marker is not None:
                    spec = marker.spec
        raise ProblemError(spec, parameter=name) from None


@dataclass(frozen=True)
class Dataset:
    """One dataset in one version: everything the broker, docs and tests need to serve it."""

    id: str
    """``<provider>.<dataset>``, the routing key's tail and the message ``type``."""
    version: int
    route: str
    """The API Particulier route it mirrors, e.g. ``/v3/dss/quotient_familial/identite``."""
    title: str
    params: type[Params]
    scopes: Mapping[str, Sequence[str]]
    """Scope -> the fields of ``data`` it unmasks (top-level keys, or dotted paths)."""
    endpoint: Endpoint[Any]
    """The upstream endpoint serving it: the worker's fetch and the simulator's answers."""
    example_params: Mapping[str, Any] = field(default_factory=dict)
    france_connect: bool = False
    """Served in FranceConnect mode: the identity comes from the citizen's token (API
    Particulier's ``/france_connect`` route of the dataset)."""
    identity: bool = True
    """Served in identity mode (the person named in ``params``); ANTS is FranceConnect only."""
    cache_seconds: int = 0
    """How long the reply cache keeps its upstream answers (data, or nobody found); 0: never
    cached."""
    france_connect_data: Record | None = field(default=None, repr=False)
    """The data of the FranceConnect route where it has fewer fields than the identity
    route's (the citizen is known: no ``identite``); ``None`` when both have the same."""

    async def fetch(self, call: UpstreamCall, params: Params) -> dict[str, Any]:
        """Call the upstream; ``data`` in API Particulier's shape (unmasked)."""
        return await self.endpoint.fetch(call, params)

    def reply_meta(self, params: Params, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the reply's ``meta`` says beside ``data`` (ANTS: ``identity_matching``)."""
        return self.endpoint.reply_meta(params, data)

    @cached_property
    def in_france_connect(self) -> Dataset:
        """The dataset as its FranceConnect route serves it: that route, its data, and the
        scopes that still unmask something of it."""
        record = self.france_connect_data or self.endpoint.record
        fields = record.model.model_fields
        scopes: dict[str, Sequence[str]] = {}
        for scope, paths in self.scopes.items():
            kept = tuple(p for p in paths if p.split(".", 1)[0] in fields)
            if kept or not paths:
                scopes[scope] = kept
        return replace(
            self,
            route=self.route.rsplit("/", 1)[0] + "/france_connect",
            scopes=scopes,
            endpoint=replace(self.endpoint, record=record),
            identity=False,
            france_connect_data=None,
        )

    @property
    def data(self) -> type[BaseModel]:
        """The model of the dataset's data in API Particulier's shape (its endpoint's)."""
        return self.endpoint.data

    @property
    def provider_name(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]

    def mask(self, data: Mapping[str, Any], granted: frozenset[str]) -> dict[str, Any]:
        return mask(data, [p for s, paths in self.scopes.items() if s in granted for p in paths])


def mask(data: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """Keep only ``paths`` of ``data`` (data minimisation, invariant 3).

    A path is a top-level key or a dotted path into nested objects; lists of objects are
    masked element-wise.
    """
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if child is True:
                break
            node = child
        else:
            node[parts[-1]] = True
    return _apply(data, tree)


def _apply(data: Mapping[str, Any], tree: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key not in data:
            continue
        value = data[key]
        if sub is True or value is None:
            out[key] = value
        elif isinstance(value, list):
            out[key] = [_apply(v, sub) if isinstance(v, Mapping) else v for v in value]
        elif isinstance(value, Mapping):
            out[key] = _apply(value, sub)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Provider:
    """A data provider: its datasets and its error catalogue."""

    name: str
    """Short lower-case name used in queue names and dataset ids (``cnav``)."""
    errors: ProviderErrors
    datasets: tuple[Dataset, ...]
    upstream_timeout: float = 10.0
    """Longest wait for one upstream call, further bounded by the request's deadline."""

    @property
    def label(self) -> str:
        """API Particulier's label, shown in ``meta.provider`` (``CNAV``): its errors' own."""
        return self.errors.label

    def dataset(self, dataset_id: str, version: int | None = None) -> Dataset | None:
        """The dataset in ``version``, or its newest version when ``version`` is None."""
        return self._index.get((dataset_id, version))

    @cached_property
    def _index(self) -> dict[tuple[str, int | None], Dataset]:
        index: dict[tuple[str, int | None], Dataset] = {}
        for declared in sorted(self.datasets, key=lambda d: d.version):
            index[(declared.id, declared.version)] = declared
            index[(declared.id, None)] = declared
        return index
