"""Datasets declared in JSON: what API Particulier publishes about a dataset, in one file.

A provider package holds one ``<dataset>.v<version>.json`` per dataset version: its id,
route, title, modes, scopes, example and the JSON Schema of its data, whose properties name
the upstream's field they come from (``x-upstream``). ``france_connect`` says the dataset has a
FranceConnect route, ``identity: false`` that it has no other (ANTS), and
``france_connect_without`` the fields its FranceConnect route does not disclose (the citizen
being known, ``identite``), ``cache_seconds`` how long the reply cache keeps its answers. The
data model that validates upstream records, the renaming between the two dialects and the
published schemas all derive from that file, so a field is declared once. The Python beside
it says only what JSON cannot: the parameters model and how the upstream is asked
(:class:`~broker.kit.Endpoint`).

The schema is a small subset of JSON Schema: ``type`` (``string``, ``integer``, ``number``,
``boolean``, ``null`` or a list of them, ``array`` with ``items``), ``enum``, ``pattern``,
``description``, ``$ref`` to a ``$defs`` entry of the same file or of a sibling one
(``common.json#/$defs/Individu``), and objects with ``properties`` and ``required``. A
property that is not required may be absent or null; a required one may be null only where its
``type`` lists ``null``. Records
are validated strictly, so a certified reply never carries a value its published schema does
not allow.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ._dataset import Dataset, Params
from ._endpoint import Endpoint, Envelope, Refusal, UpstreamRequest
from ._renaming import Record, Renaming, Shape

__all__ = ["Declaration", "VersionedUpstream", "declared"]

_SCALARS: Mapping[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
_STRICT = ConfigDict(strict=True)


@dataclass(frozen=True)
class Declaration:
    """One dataset version as its JSON file declares it."""

    id: str
    version: int
    route: str
    title: str
    scopes: Mapping[str, Sequence[str]]
    example_params: Mapping[str, Any]
    france_connect: bool
    identity: bool
    cache_seconds: int
    record: Record
    france_connect_data: Record | None

    def dataset(
        self,
        *,
        params: type[Params],
        request: Callable[[Any], UpstreamRequest],
        errors: Mapping[str, Refusal],
        envelope: Envelope | None = None,
        endpoint: type[Endpoint[Any]] | None = None,
    ) -> Dataset:
        """The dataset, served by an ``endpoint`` (:class:`~broker.kit.Endpoint` or a subclass)
        built on this declaration's record."""
        served = (endpoint or Endpoint)(
            request=request, record=self.record, errors=errors, envelope=envelope or Envelope()
        )
        return Dataset(
            id=self.id,
            version=self.version,
            route=self.route,
            title=self.title,
            params=params,
            scopes=self.scopes,
            endpoint=served,
            example_params=self.example_params,
            france_connect=self.france_connect,
            identity=self.identity,
            cache_seconds=self.cache_seconds,
            france_connect_data=self.france_connect_data,
        )


@dataclass(frozen=True)
class VersionedUpstream:
    """An upstream serving a dataset in several versions, each through an API version of its
    own (``apis``: dataset version -> API version, the first argument of ``request``)."""

    apis: Mapping[int, str]
    request: Callable[[str, Any], UpstreamRequest]
    errors: Mapping[str, Refusal]
    envelope: Envelope | None = None

    def datasets(self, package: str | None, stem: str, params: type[Params]) -> tuple[Dataset, ...]:
        """Each version ``N`` of the dataset declared in ``<stem>.vN.json`` of ``package``."""
        return tuple(
            declared(package, f"{stem}.v{version}.json").dataset(
                params=params,
                request=functools.partial(self.request, api),
                errors=self.errors,
                envelope=self.envelope,
            )
            for version, api in self.apis.items()
        )


def declared(package: str | None, name: str) -> Declaration:
    """The declaration in file ``name`` of ``package``: a dataset module passes its own
    ``__package__``."""
    if package is None:
        raise ValueError(f"{name}: declared from outside a package")
    return _declared(package, name)


@functools.cache
def _declared(package: str, name: str) -> Declaration:
    document = _load(package, name)
    data = document["data"]
    without = set(document.get("france_connect_without", ()))
    france_connect_data = (
        _Builder(package, name).record(
            {
                **data,
                "properties": {k: v for k, v in data["properties"].items() if k not in without},
                "required": [k for k in data.get("required", ()) if k not in without],
            }
        )
        if without
        else None
    )
    return Declaration(
        id=document["id"],
        version=document["version"],
        route=document["route"],
        title=document["title"],
        scopes={scope: tuple(paths) for scope, paths in document["scopes"].items()},
        example_params=document.get("example_params", {}),
        france_connect=document.get("france_connect", False),
        identity=document.get("identity", True),
        cache_seconds=document.get("cache_seconds", 0),
        record=_Builder(package, name).record(data),
        france_connect_data=france_connect_data,
    )


@functools.cache
def _load(package: str, name: str) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads(resources.files(package).joinpath(name).read_text())
    return loaded


@functools.cache
def _definition(package: str, name: str, title: str) -> tuple[type[BaseModel], Shape]:
    """A ``$defs`` entry, built once however many datasets refer to it."""
    schema = _load(package, name)["$defs"][title]
    return _Builder(package, name).model(title, schema)


class _Builder:
    """Builds pydantic models and renaming shapes from one file's schema nodes."""

    def __init__(self, package: str, name: str) -> None:
        self.package = package
        self.name = name

    def record(self, data: Mapping[str, Any]) -> Record:
        model, shape = self.model(data["title"], data)
        return Record(model=model, renaming=Renaming(shape))

    def model(self, title: str, schema: Mapping[str, Any]) -> tuple[type[BaseModel], Shape]:
        required = set(schema.get("required", ()))
        fields: dict[str, Any] = {}
        shape: dict[str, str | tuple[str, Shape]] = {}
        for field, node in schema["properties"].items():
            annotation, nested = self.annotation(node)
            if field in required:
                fields[field] = (annotation, Field(description=node.get("description")))
            else:
                fields[field] = (
                    annotation | None,
                    Field(None, description=node.get("description")),
                )
            upstream = node.get("x-upstream", field)
            shape[field] = upstream if nested is None else (upstream, nested)
        built: type[BaseModel] = create_model(
            title,
            __config__=_STRICT,
            __doc__=schema.get("description"),
            __module__=self.package,
            **fields,
        )
        return built, shape

    def annotation(self, node: Mapping[str, Any]) -> tuple[Any, Shape | None]:
        """A property's type, and the shape of the object(s) it holds if any."""
        if "$ref" in node:
            return self.reference(node["$ref"])
        if "enum" in node:
            return Literal[tuple(node["enum"])], None
        kind = node["type"]
        if kind == "array":
            item, nested = self.annotation(node["items"])
            return list[item], nested  # type: ignore[valid-type]
        if isinstance(kind, list):
            return functools.reduce(operator.or_, (_SCALARS[k] for k in kind)), None
        scalar = _SCALARS[kind]
        if "pattern" in node:
            return Annotated[scalar, Field(pattern=node["pattern"])], None
        return scalar, None

    def reference(self, ref: str) -> tuple[type[BaseModel], Shape]:
        where, _, pointer = ref.partition("#/$defs/")
        return _definition(self.package, where or self.name, pointer)
