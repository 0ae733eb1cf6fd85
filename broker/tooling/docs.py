"""``docs/datasets.md``, generated from the dataset declarations (a test fails on drift)."""

from __future__ import annotations

import asyncio
import json
import time
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .. import registry
from ..errors import BROKER, ErrorSpec, ProblemError, all_specs
from ..france_connect import IDENTITY_PARAMETERS
from ..kit import Civility, Dataset, Provider, Upstream, validate_params
from ..simulation import Population, context, serve_simulators

__all__ = ["datasets_markdown"]

_REQUEST_ERRORS = (
    BROKER.UNREADABLE,
    BROKER.UNKNOWN_DATASET,
    BROKER.RECIPIENT_MISSING,
    BROKER.RECIPIENT_INVALID,
    BROKER.FORBIDDEN,
    BROKER.RATE_LIMITED,
    BROKER.DEADLINE_EXPIRED,
    BROKER.MESSAGE_ID_REUSED,
)


def _type_name(annotation: Any) -> str:
    """A short readable type: ``str``, ``list[str]``, ``int``... (``None`` left out)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (Union, UnionType):
        parts = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(parts)
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in get_args(annotation))
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(annotation, "__name__", str(annotation))


def _params_table(dataset: Dataset) -> list[str]:
    required: frozenset[str] = getattr(dataset.params, "required", frozenset())
    # Either pivot (IneOrCivility): the INE alone, or an identity with these parameters.
    without_ine: tuple[str, ...] = getattr(dataset.params, "identity_required", ())
    lines = ["| parameter | type | required |", "|---|---|---|"]
    if not dataset.identity:  # the identity comes from the citizen's token
        lines.append("| `france_connect_token` (beside `params`) | str | yes |")
    for name, info in dataset.params.model_fields.items():
        api = info.alias or name
        if (
            not dataset.identity
            and issubclass(dataset.params, Civility)
            and (name in Civility.model_fields)
        ):
            continue
        if info.is_required() or api in required:
            needed = "yes"
        elif without_ine and api == "ine":
            needed = "yes, or the identity"
        elif api in without_ine:
            needed = "without `ine`"
        else:
            needed = "no"
        kind = _type_name(info.annotation)
        lines.append(f"| `{api}` | {kind} | {needed} |")
    return lines


def _error_rows(specs: list[ErrorSpec]) -> list[str]:
    lines = ["| code | status | title | detail |", "|---|---|---|---|"]
    seen = set()
    for spec in specs:
        if spec.code in seen:
            continue
        seen.add(spec.code)
        lines.append(f"| `{spec.code}` | {spec.status} | {spec.title} | {spec.detail} |")
    return lines


def _param_specs(dataset: Dataset) -> list[ErrorSpec]:
    specs = [dataset.params.invalid]
    for info in dataset.params.model_fields.values():
        for marker in info.metadata:
            spec = getattr(marker, "spec", None)
            if isinstance(spec, ErrorSpec):
                specs.append(spec)
    return specs


async def _examples() -> dict[tuple[str, int], dict[str, Any]]:
    """Each dataset's example answered by its simulator, as the broker maps it."""
    providers = registry.providers()
    runner = await serve_simulators(context(Population(1000)))
    port = runner.addresses[0][1]
    out: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        for provider in providers.values():
            upstream = Upstream(
                provider.name, f"http://127.0.0.1:{port}/{provider.name}/", provider.errors
            )
            for dataset in provider.datasets:
                out[(dataset.id, dataset.version)] = await _example(upstream, dataset)
            await upstream.aclose()
    finally:
        await runner.cleanup()
    return out


async def _example(upstream: Upstream, dataset: Dataset) -> dict[str, Any]:
    try:
        vouched = not dataset.identity
        params = validate_params(dataset.params, dataset.example_params, france_connect=vouched)
        data = await dataset.fetch(upstream.call(time.monotonic() + 10), params)
        return {"status": 200, "data": data, "errors": [], "meta": dataset.reply_meta(params, data)}
    except ProblemError as exc:
        return {"status": exc.status, "data": None, "errors": [exc.error()]}


def _section(provider: Provider, dataset: Dataset, example: dict[str, Any]) -> list[str]:
    out = [
        f"## `{dataset.id}` v{dataset.version}: {dataset.title}",
        "",
        f"Provider {provider.label}. {_modes_sentence(dataset)} "
        f"Routing key `interactive.{dataset.id}` or `bulk.{dataset.id}`.",
        "",
        "### Parameters",
        "",
        *_params_table(dataset),
        "",
        "### Fields by scope",
        "",
        "| scope | fields |",
        "|---|---|",
        *[
            f"| `{scope}` | {', '.join(f'`{f}`' for f in fields)} |"
            for scope, fields in dataset.scopes.items()
        ],
        "",
        "### Errors",
        "",
        *_error_rows([*_param_specs(dataset), *provider.errors, *_REQUEST_ERRORS]),
        "",
        "### Example",
        "",
        "Request body:",
        "",
        _json_block(
            {
                "dataset": dataset.id,
                "version": dataset.version,
                "recipient": "13002526500013",
                **_example_request(dataset),
            }
        ),
        "",
        "Reply body (every scope granted; `meta` and `proof` abridged):",
        "",
        _json_block(
            {
                **example,
                "meta": {
                    "request_id": "…",
                    "dataset": dataset.id,
                    "version": dataset.version,
                    "provider": provider.label,
                    **example.get("meta", {}),
                },
                "proof": "eyJ…..…",
            }
        ),
        "",
    ]
    return out


def _json_block(value: Any) -> str:
    body = json.dumps(value, ensure_ascii=False, indent=2)
    return f"```json\n{body}\n```"


def _example_request(dataset: Dataset) -> dict[str, Any]:
    """The example's ``params``; in FranceConnect mode only, the citizen's token instead of
    the identity the example names."""
    if dataset.identity:
        return {"params": dict(dataset.example_params)}
    own = {k: v for k, v in dataset.example_params.items() if k not in IDENTITY_PARAMETERS}
    return {"france_connect_token": "…", "params": own}


def _modes(dataset: Dataset) -> list[str]:
    return [
        mode
        for mode, served in (
            ("identity", dataset.identity),
            ("FranceConnect", dataset.france_connect),
        )
        if served
    ]


def _modes_sentence(dataset: Dataset) -> str:
    """The routes mirrored, and how the FranceConnect one differs (docs/france-connect.md)."""
    if not dataset.france_connect:
        return f"Identity mode only: mirrors API Particulier's `{dataset.route}`."
    served = dataset.in_france_connect
    fc = f"`{served.route}` (FranceConnect mode: `france_connect_token` instead of the identity"
    hidden = sorted(set(dataset.scopes) - set(served.scopes))
    if hidden:
        fc += f"; scopes {', '.join(f'`{h}`' for h in hidden)} disclose nothing in that mode"
    fc += ")"
    if not dataset.identity:
        return f"FranceConnect mode only: mirrors API Particulier's {fc}."
    return f"Mirrors API Particulier's `{dataset.route}` and {fc}."


def _lifetime(seconds: int) -> str:
    """A cache lifetime as people say it (``1 h``, ``24 h``, ``90 s``)."""
    if not seconds:
        return "never"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def datasets_markdown() -> str:
    examples = asyncio.run(_examples())
    providers = registry.providers()
    lines = [
        "# Datasets",
        "",
        "Generated by `particulier docs datasets` from the declarations in `workers/`; do not "
        "edit by hand (a test fails when this file drifts).",
        "",
        "| dataset | version | provider | modes | API Particulier route | cached |",
        "|---|---|---|---|---|---|",
    ]
    for provider in providers.values():
        for dataset in provider.datasets:
            lines.append(
                f"| `{dataset.id}` | {dataset.version} | {provider.label} | "
                f"{', '.join(_modes(dataset))} | `{dataset.route}` | "
                f"{_lifetime(dataset.cache_seconds)} |"
            )
    lines += [
        "",
        "The `cached` column is how long the reply cache keeps a provider's answer (data, or "
        'nobody found; see docs/operations.md, "Reply cache").',
        "",
        "## Errors every dataset can answer",
        "",
        "Codes `00xxx` are the broker's own; `001xx`–`005xx` are API Particulier's, `008xx` "
        "are this broker's additions for what only a message-driven service can get wrong. "
        "Each dataset's section lists its provider's codes.",
        "",
        *_error_rows(all_specs()),
        "",
        _ADDING,
        "",
    ]
    for provider in providers.values():
        for dataset in provider.datasets:
            lines.extend(_section(provider, dataset, examples[(dataset.id, dataset.version)]))
    return "\n".join(lines)


_ADDING = """## Adding a dataset

A dataset is one declaration in its provider's package under `workers/<provider>/`; nothing in
`broker/` changes:

1. its declaration `workers/<provider>/<dataset>.v<N>.json` (id, route, title, modes,
   `cache_seconds` (how long the reply cache keeps its answers), scopes, an `example_params`
   that answers 200, and the JSON Schema of its data, each field naming its upstream field
   with `x-upstream`), and beside it, in Python, the params model (a `Params` or `Civility`
   subclass, API Particulier's parameter names, `ErrorCode` markers for the codes of invalid
   values) and one `declared(__package__, "<dataset>.v<N>.json").dataset(...)` call naming
   the upstream request, its error table and its envelope (docs/architecture.md, "Adding a
   dataset");
2. its entry in the package's `datasets.py`, and the simulator's synthetic data for it;
3. its provider errors, where they differ from `ProviderErrors`' defaults;
4. tests under `tests/providers/`, and its staging cases in a folder of
   `tests/conformance/` when API Particulier publishes none;
5. `make schemas` regenerates `schemas/`, this file and the RabbitMQ definitions (tests fail
   until it is run).

A new provider is a new package exposing `PROVIDER`: the registry finds it, `topology apply`
declares its queues, `particulier worker --all` serves it."""
