"""``particulier``: every command of the broker, for operators, integrators and CI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cache.cli import cache_app
from ..certification.cli import keys_app, verify_command
from ..db.cli import db_app
from ..gateway.cli import gateway_command, tokens_app
from ..habilitations.cli import agencies_app, delegations_app, editors_app, habilitations_app
from ..journal.cli import audit_app, stats_command
from ..sdk.contract import Lane
from .batch.cli import batch_app, population_app

app = typer.Typer(
    name="particulier",
    help="Message-driven API Particulier: certified administrative data over RabbitMQ.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
topology_app = typer.Typer(help="RabbitMQ exchanges and queues.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas and the AsyncAPI document.", no_args_is_help=True)
docs_app = typer.Typer(help="Documents generated from the declarations.", no_args_is_help=True)
_AREAS = {
    "topology": topology_app,
    "schemas": schemas_app,
    "docs": docs_app,
    "db": db_app,
    "agencies": agencies_app,
    "habilitations": habilitations_app,
    "editors": editors_app,
    "delegations": delegations_app,
    "audit": audit_app,
    "keys": keys_app,
    "cache": cache_app,
    "tokens": tokens_app,
}
"""Each area's own commands, under its name (``particulier <area> <command>``)."""
for area, commands in _AREAS.items():
    app.add_typer(commands, name=area)
app.command("gateway")(gateway_command)
app.command("verify", help="Check a saved reply's proof of origin offline.")(verify_command)
app.command("stats", help="Requests answered, by dataset and day.")(stats_command)


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


@topology_app.command("apply")
def topology_apply() -> None:
    """Declare exchanges, queues and dead-lettering (idempotent)."""

    from .. import registry, topology
    from ..config import settings
    from ..sdk import connect

    async def main() -> None:
        connection = await connect(settings().amqp_url, name="particulier-topology")
        async with connection:
            await topology.apply(await connection.channel(), registry.providers())

    asyncio.run(main())
    names = [
        spec.name for p in topology.served(registry.providers()) for spec in topology.queues_for(p)
    ]
    typer.echo("topology applied: " + ", ".join(names))


@app.command("worker")
def worker_command(
    providers: Annotated[list[str] | None, typer.Argument(help="Providers to serve.")] = None,
    all_providers: Annotated[bool, typer.Option("--all", help="Serve every provider.")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="Port of /metrics.")] = None,
    lane: Annotated[
        list[Lane] | None,
        typer.Option(help="Lanes to consume (default both); a process per lane isolates them."),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes, one a core (default: the cores this command may use); "
            "process i serves /metrics on the metrics port + i.",
            show_default=False,
        ),
    ] = None,
    verbose: bool = False,
) -> None:
    """Run workers for some providers (or --all) until SIGTERM: one process a core, each
    serving every lane and provider named."""
    from .. import registry
    from ..config import settings
    from ..runtime import run
    from .processes import cores, supervise, worker_argv

    _logging(verbose)
    names = list(registry.providers()) if all_providers else list(providers or [])
    if not names:
        raise typer.BadParameter("name providers, or pass --all")
    unknown = [n for n in names if n not in registry.providers()]
    if unknown:
        raise typer.BadParameter(f"unknown providers: {', '.join(unknown)}")
    count = processes or cores()
    if count == 1:
        asyncio.run(run(names, metrics_port=metrics_port, lanes=tuple(lane or Lane)))
        return
    base = metrics_port or settings().metrics_port
    lanes = [arg for one in lane or () for arg in ("--lane", one.value)]
    shared = [*names, *lanes, "--processes", "1", *(["--verbose"] if verbose else [])]
    commands = [worker_argv([*shared, "--metrics-port", str(base + i)]) for i in range(count)]
    supervise(commands)


@app.command("simulator")
def simulator_command(
    host: str = "127.0.0.1",
    port: int = 8700,
    cases: Annotated[
        list[Path] | None, typer.Option(help="Extra folders of conformance cases.")
    ] = None,
    no_default_cases: Annotated[
        bool, typer.Option(help="Do not load the shared conformance folder.")
    ] = False,
    population: Annotated[int, typer.Option(help="Synthetic population size.")] = 1_000_000,
    not_found_share: Annotated[float, typer.Option(help="Share of people unknown.")] = 0.05,
    latency_ms: float = 0.0,
    jitter_ms: float = 0.0,
    error_rate: float = 0.0,
    timeout_rate: float = 0.0,
    rate_limit_rate: float = 0.0,
) -> None:
    """Serve every provider's upstream simulator under /<provider>; faults at /_admin/faults."""
    from .. import registry
    from ..simulation import Faults, Population, context, serve_simulators

    _logging()
    ctx = context(
        Population(population, not_found_share=not_found_share),
        cases=cases or [],
        staging=not no_default_cases,
    )
    faults = Faults(latency_ms, jitter_ms, error_rate, timeout_rate, rate_limit_rate)
    names = list(registry.providers())
    for name in names:
        ctx.faults[name] = Faults(**faults.__dict__)

    async def main() -> None:
        runner = await serve_simulators(ctx, host, port)
        logging.getLogger("particulier.simulator").info(
            "simulating %s on http://%s:%d (%d cases)",
            ",".join(names),
            host,
            port,
            len(ctx.cases),
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs; numbers become numbers, repeated names and ``prenoms`` lists."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected name=value, got {pair!r}")
        value: Any = text
        if text.isdigit() and not (len(text) > 1 and text.startswith("0")) and len(text) < 10:
            value = int(text)
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = [value] if name == "prenoms" else value
    return params


@app.command("request")
def request_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. cnav.quotient_familial.")],
    recipient: Annotated[str, typer.Option(help="SIRET of the receiving public body.")],
    param: Annotated[list[str] | None, typer.Option(help="name=value, repeatable.")] = None,
    version: Annotated[int | None, typer.Option(help="Dataset version (3 or 4).")] = None,
    lane: Lane = Lane.INTERACTIVE,
    timeout: float = 30.0,
    verify: Annotated[bool, typer.Option(help="Check the proof of origin.")] = True,
    france_connect_token: Annotated[
        str | None,
        typer.Option(
            help="FranceConnect mode: the citizen's token instead of the identity "
            "(--param then gives only the dataset's own parameters).",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ask the provider even if the cache holds it.")
    ] = False,
) -> None:
    """Send one request and print the reply as JSON."""
    from ..certification import local_jwks
    from ..config import settings
    from ..sdk import Client

    params = parse_params(param or [])

    async def main() -> bytes:
        jwks = local_jwks() if verify else None
        async with Client(settings().amqp_url, lane=lane, verify=verify, jwks=jwks) as client:
            reply = await client.request(
                dataset,
                params,
                recipient=recipient,
                version=version,
                timeout=timeout,
                france_connect_token=france_connect_token,
                no_cache=no_cache,
            )
            return reply.raw

    raw = asyncio.run(main())
    typer.echo(json.dumps(json.loads(raw), ensure_ascii=False, indent=2))


@app.command("whoami")
def whoami_command(
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            help="An editor: only this agency (name or SIRET).",
            show_default=False,
        ),
    ] = None,
    timeout: float = 10.0,
) -> None:
    """What this login (PARTICULIER_AMQP_URL's user) may ask now: its agency's habilitations
    (an editor's: each delegating agency's), with datasets, scopes, modes, lanes, rate limits
    and validity, as the workers see them."""
    from ..certification import local_jwks
    from ..config import settings
    from ..sdk import Client

    async def main() -> tuple[int, Any]:
        async with Client(settings().amqp_url, jwks=local_jwks()) as client:
            reply = await client.rights(on_behalf_of=on_behalf_of, timeout=timeout)
            return reply.status, reply.data if reply.data is not None else reply.body.errors

    status, data = asyncio.run(main())
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    raise typer.Exit(0 if status == 200 else 1)


@app.command("ping")
def ping_command(
    provider: Annotated[str, typer.Argument(help="Provider name, e.g. cnav.")],
    timeout: float = 10.0,
) -> None:
    """Ask a provider's workers how it is (status ok / bad_gateway / unknown, last success,
    breaker, maintenance); exits 1 unless the status is ok."""
    from ..certification import local_jwks
    from ..config import settings
    from ..sdk import Client

    async def main() -> tuple[int, dict[str, Any]]:
        async with Client(settings().amqp_url, jwks=local_jwks()) as client:
            reply = await client.ping(provider, timeout=timeout)
            return reply.status, reply.data or {"errors": reply.raw.decode()}

    status, data = asyncio.run(main())
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if status == 200 and data.get("status") == "ok" else 1)


@app.command("demo")
def demo_command(
    count: Annotated[int, typer.Option(help="Households to check.")] = 1000,
    concurrency: Annotated[
        int, typer.Option(help="The nightly run's window: rows in flight.")
    ] = 200,
    latency_ms: Annotated[float, typer.Option(help="Simulated upstream latency.")] = 50.0,
) -> None:
    """Start the simulator and a worker, run a nightly eligibility check of synthetic
    households while a counter clerk asks about single people, print a summary, stop."""
    from .demo import run_demo

    _logging()
    raise typer.Exit(asyncio.run(run_demo(count, concurrency, latency_ms)))


@schemas_app.command("export")
def schemas_export(
    out: Annotated[Path, typer.Option(help="Target folder.")] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every message and the AsyncAPI 3.0 document."""
    from .schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


@docs_app.command("datasets")
def docs_datasets(
    out: Annotated[Path, typer.Option(help="Target file.")] = Path("docs/datasets.md"),
) -> None:
    """Write docs/datasets.md from the dataset declarations."""
    from .docs import datasets_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(datasets_markdown(), encoding="utf-8")
    typer.echo(f"wrote {out}")


app.add_typer(batch_app, name="batch")
app.add_typer(population_app, name="population")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
