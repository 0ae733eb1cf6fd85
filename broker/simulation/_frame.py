"""The common frame of the upstream simulators.

Each provider package builds an aiohttp application in its own upstream dialect; this module
mounts them under ``/<provider>``, injects latency and faults (changeable at run time through
``/_admin/faults``), and loads conformance cases for the providers to serve.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
from collections.abc import Awaitable, Callable, Container, Hashable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web
from pydantic import BaseModel, ValidationError

from ..errors import ProviderErrors
from ..france_connect import IDENTITY_PARAMETERS, carried
from ..kit import FRANCE_CONNECT_IDENTITY, Answer, Dataset
from ._population import Population

_Params = TypeVar("_Params", bound=BaseModel)
_Key = TypeVar("_Key", bound=Hashable)

_FOLDER = re.compile(r"^api_particulier_v(?P<version>\d+)_(?P<rest>.+?)_with_(?P<pivot>[a-z_]+)$")


@dataclass
class Faults:
    """What the simulator does to answers, settable per provider while it runs."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    """Share of requests answered 503."""
    timeout_rate: float = 0.0
    """Share of requests never answered in time (held for ``hang_s``)."""
    rate_limit_rate: float = 0.0
    """Share of requests answered 429 with ``Retry-After: 1``."""
    down: bool = False
    """Every request answered 503."""
    fail_next: int = 0
    """The next N requests answered 503 (then counted down): a transient outage."""
    hang_s: float = 60.0

    def update(self, values: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in names:
                raise KeyError(key)
            setattr(self, key, type(getattr(self, key))(value))


@dataclass(frozen=True)
class Case:
    """One conformance case (see ``shared/conformance/README.md``)."""

    path: Path
    version: int
    endpoint: str
    """``<provider>_<endpoint>``, e.g. ``cnav_quotient_familial``."""
    pivot: str
    """``civility``, ``ine`` or ``identifiant``."""
    params: dict[str, Any]
    status: int
    payload: dict[str, Any]

    @property
    def error_codes(self) -> list[str]:
        return [str(e.get("code")) for e in self.payload.get("errors") or []]

    @property
    def data(self) -> Any:
        """The answer's ``data``; older case files give the fields without the wrapper."""
        if "data" in self.payload or "errors" in self.payload:
            return self.payload.get("data")
        return {k: v for k, v in self.payload.items() if k not in ("links", "meta")}

    @property
    def citizen(self) -> dict[str, Any]:
        """A FranceConnect-mode case's citizen, in civility parameters: the identity its
        ``params`` give, else the person its answer describes (an ANTS case gives only the
        registration number, ``shared/france-connect/README.md``), else nobody (``{}``)."""
        given = {k: v for k, v in self.params.items() if k in IDENTITY_PARAMETERS}
        person = (self.data or {}).get("identite_particulier") if not given else None
        if not isinstance(person, dict):
            return given
        return {
            "nomNaissance": person["nom"],
            "prenoms": person["prenom"].split(),
            "sexeEtatCivil": person["sexe_etat_civil"],
            "anneeDateNaissance": person["annee_date_naissance"],
            "moisDateNaissance": person["mois_date_naissance"],
            "jourDateNaissance": person["jour_date_naissance"],
        }

    def is_provider(self, provider: str) -> bool:
        return self.endpoint.startswith(provider + "_")

    def dataset_name(self, provider: str) -> str:
        return self.endpoint.removeprefix(provider + "_")

    def failure(self, errors: ProviderErrors) -> str:
        """What kind of upstream failure the case's first error stands for.

        One of ``not_found``, ``timeout``, ``unavailable``, ``rate_limited``, ``unknown``, or
        ``code:<code>`` for any other code (a provider answer mapped to a broker code).
        """
        code = self.error_codes[0] if self.error_codes else ""
        for kind in ("not_found", "timeout", "unavailable", "rate_limited", "unknown"):
            if getattr(errors, kind).code == code:
                return kind
        return f"code:{code}"


def load_cases(dirs: Iterable[Path]) -> list[Case]:
    """Every case under ``dirs`` (searched recursively for case folders)."""
    found: list[Case] = []
    for root in dirs:
        for path in sorted(Path(root).rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            match = _FOLDER.match(path.parent.name)
            if match is None:
                continue
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or "params" not in doc:
                continue
            payload = doc.get("payload") or "{}"
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except ValueError:  # a few published cases carry trailing commas
                    payload = yaml.safe_load(payload)
            found.append(
                Case(
                    path=path,
                    version=int(match["version"]),
                    endpoint=match["rest"],
                    pivot=match["pivot"],
                    params=dict(doc.get("params") or {}),
                    status=int(doc["status"]),
                    payload=dict(payload),
                )
            )
    return found


def _cloned_from(checkout: Path) -> Path | None:
    """The local checkout ``checkout`` was cloned from (``git clone . /tmp/x``), if any."""
    try:
        url = subprocess.run(
            ["git", "-C", str(checkout), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    origin = Path(url.removeprefix("file://"))
    return origin if url and origin.is_absolute() and origin.is_dir() else None


def shared_dir() -> Path | None:
    """The design's ``shared/`` folder (staging cases, reference files): beside the checkout,
    beside the working directory, or beside the local checkout this one was cloned from."""
    here = Path(__file__).resolve().parents[2]
    candidates = [here.parent, Path.cwd().parent]
    if (origin := _cloned_from(here)) is not None:
        candidates.append(origin.parent)
    for parent in candidates:
        if (parent / "shared").is_dir():
            return (parent / "shared").resolve()
    return None


def france_connect_cases_dirs() -> list[Path]:
    """The shared FranceConnect-mode staging folder (``shared/france-connect/staging``)."""
    shared = shared_dir()
    folder = shared / "france-connect" / "staging" if shared is not None else None
    return [folder.resolve()] if folder is not None and folder.is_dir() else []


def default_cases_dirs() -> list[Path]:
    """The shared conformance folder, and the project's own cases."""
    here = Path(__file__).resolve().parents[2]
    shared = shared_dir()
    candidates = [shared / "conformance"] if shared is not None else []
    return [c.resolve() for c in (*candidates, here / "tests" / "conformance") if c.is_dir()]


@dataclass
class SimulatorContext:
    """Shared by every provider simulator of one server."""

    population: Population
    cases: list[Case] = field(default_factory=list)
    faults: dict[str, Faults] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    received: dict[str, int] = field(default_factory=dict)
    """Requests received per provider, faults included (tests read it)."""

    def cases_of(self, provider: str) -> Iterator[Case]:
        return (c for c in self.cases if c.is_provider(provider))

    def cases_for(
        self, provider: str, dataset: str, versions: Container[int] | None = None
    ) -> Iterator[Case]:
        """The cases of one dataset of ``provider``, of the ``versions`` given (default all)."""
        return (
            c
            for c in self.cases_of(provider)
            if c.dataset_name(provider) == dataset and (versions is None or c.version in versions)
        )

    def faults_of(self, provider: str) -> Faults:
        return self.faults.setdefault(provider, Faults())

    def known_answers(
        self,
        datasets: Dataset | Iterable[Dataset],
        failures: Mapping[str, Answer],
        errors: ProviderErrors,
        *,
        otherwise: Answer | None = None,
    ) -> dict[str, Answer]:
        """:func:`case_answers` for one dataset (in one or several versions), keyed on the
        request its endpoint sends for each case and answered with the endpoint's own success:
        the simulator cannot drift from what the worker sends and reads."""
        by_version = {
            d.version: d for d in ([datasets] if isinstance(datasets, Dataset) else datasets)
        }
        some = next(iter(by_version.values()))
        return case_answers(
            self.cases_for(some.provider_name, some.name, set(by_version)),
            some.params,
            key=lambda case, params: by_version[case.version].endpoint.request(params).key(),
            success=lambda case: by_version[case.version].endpoint.success(case.data)[1],
            failures=failures,
            errors=errors,
            otherwise=otherwise,
        )


def case_answers(
    cases: Iterable[Case],
    params: type[_Params],
    key: Callable[[Case, _Params], _Key],
    success: Callable[[Case], dict[str, Any]],
    failures: Mapping[str, Answer],
    errors: ProviderErrors,
    *,
    otherwise: Answer | None = None,
) -> dict[_Key, Answer]:
    """The upstream answer standing for each case, by the key of the request it stands for.

    A case whose ``params`` do not validate is left out (the broker never sends it upstream).
    A 200 case is answered 200 with ``success(case)``; a failing one with the entry of
    ``failures`` for its kind (see :meth:`Case.failure`), else ``otherwise``, else left out.
    ``key(case, params)`` is the key of the upstream request, as the simulator reads it back.
    """
    known: dict[_Key, Answer] = {}
    for case in cases:
        vouched = case.pivot == "france_connect"
        try:
            valid = params.model_validate(
                carried(case.params) if vouched else case.params,
                context={FRANCE_CONNECT_IDENTITY: vouched},
            )
        except ValidationError:
            continue
        if case.status == 200:
            answer: Answer | None = (200, success(case))
        else:
            answer = failures.get(case.failure(errors), otherwise)
        if answer is not None:
            known[key(case, valid)] = answer
    return known


def respond(answer: Answer) -> web.Response:
    """``answer`` as the simulator's HTTP response."""
    status, payload = answer
    return web.json_response(payload, status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _fault_middleware(ctx: SimulatorContext) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        provider, _, rest = request.path.strip("/").partition("/")
        if provider.startswith("_") or rest.startswith("_") or provider not in ctx.faults:
            return await handler(request)  # the admin API is never faulted
        faults = ctx.faults[provider]
        ctx.received[provider] = ctx.received.get(provider, 0) + 1
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return web.json_response({"fault": "injected"}, status=503)
        delay = faults.latency_ms + (
            ctx.rng.uniform(-faults.jitter_ms, faults.jitter_ms) if faults.jitter_ms else 0.0
        )
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        draw = ctx.rng.random()
        if faults.down or draw < faults.error_rate:
            return web.json_response({"fault": "injected"}, status=503)
        draw -= faults.error_rate
        if draw < faults.timeout_rate:
            await asyncio.sleep(faults.hang_s)
            return web.json_response({"fault": "late"}, status=504)
        draw -= faults.timeout_rate
        if draw < faults.rate_limit_rate:
            return web.json_response(
                {"fault": "throttled"}, status=429, headers={"Retry-After": "1"}
            )
        return await handler(request)

    return middleware


def build_app(
    builders: dict[str, Callable[[SimulatorContext], web.Application]],
    ctx: SimulatorContext,
) -> web.Application:
    """The root application: each provider's simulator under ``/<name>``, plus the admin API."""
    app = web.Application(middlewares=[_fault_middleware(ctx)])

    async def get_faults(_: web.Request) -> web.Response:
        return web.json_response({name: asdict(f) for name, f in ctx.faults.items()})

    async def put_faults(request: web.Request) -> web.Response:
        body = await request.json()
        targets = [request.query["provider"]] if "provider" in request.query else list(ctx.faults)
        try:
            for name in targets:
                if name not in ctx.faults:
                    raise KeyError(name)
                if body.get("reset"):
                    ctx.faults[name] = Faults()
                ctx.faults[name].update({k: v for k, v in body.items() if k != "reset"})
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": f"bad fault setting: {exc}"}, status=400)
        return web.json_response({name: asdict(ctx.faults[name]) for name in targets})

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {"providers": sorted(builders), "cases": len(ctx.cases), "received": ctx.received}
        )

    app.router.add_get("/_admin/faults", get_faults)
    app.router.add_put("/_admin/faults", put_faults)
    app.router.add_get("/_admin/health", health)
    for name, builder in builders.items():
        ctx.faults_of(name)
        app.add_subapp(f"/{name}/", builder(ctx))
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start ``app`` in the running loop; the caller cleans the runner up."""
    # A simulated hang must not hold the server up when it stops.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port, backlog=1024).start()
    return runner
