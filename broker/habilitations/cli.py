"""``particulier agencies``, ``habilitations``, ``editors`` and ``delegations``: who may see
what, and who may ask for whom."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, TypeVar

import asyncpg
import typer

from .. import registry
from .._cli import AdminUrl, AsJson, fail, instant, listing, with_admin
from ..sdk import node_urls
from ..sdk.contract import Mode
from . import admin, editors
from .provision import ProvisioningError, RabbitMQ, vhost_of
from .settings import ProvisioningSettings

__all__ = ["agencies_app", "delegations_app", "editors_app", "habilitations_app"]

agencies_app = typer.Typer(no_args_is_help=True, help="Agencies and their RabbitMQ users.")
habilitations_app = typer.Typer(
    no_args_is_help=True, help="Habilitations: datasets and scopes granted to agencies."
)

T = TypeVar("T")


Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="RabbitMQ password; generated (and printed) for a new user when absent.",
        show_default=False,
    ),
]
Vhost = Annotated[
    str | None,
    typer.Option(
        "--vhost", help="Virtual host; default the one of PARTICULIER_AMQP_URL.", show_default=False
    ),
]
Provision = Annotated[
    bool, typer.Option("--rabbitmq/--no-rabbitmq", help="Provision the RabbitMQ user too.")
]


@agencies_app.callback()
def _agencies() -> None:
    """Agencies and their RabbitMQ users."""


@habilitations_app.callback()
def _habilitations() -> None:
    """Habilitations: datasets and scopes granted to agencies."""


def _rate(value: str) -> float | None:
    if value.strip().lower() in ("unlimited", "none", "illimité"):
        return None
    try:
        rate = float(value)
    except ValueError:
        raise typer.BadParameter("a number of requests per second, or 'unlimited'") from None
    if rate <= 0:
        raise typer.BadParameter("a positive number of requests per second, or 'unlimited'")
    return rate


def _when(value: str | None) -> datetime | None:
    return None if value is None else instant(value)


def _per_second(rate: float | None) -> str:
    return "unlimited" if rate is None else f"{rate:g}"


@agencies_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="The agency's name, e.g. 'Mairie de Lyon'.")],
    siret: Annotated[str, typer.Option("--siret", help="Its SIRET (14 digits, checked).")],
    user: Annotated[
        str, typer.Option("--user", help="Its RabbitMQ login: letters, digits, _ and -.")
    ],
    password: Password = None,
    vhost: Vhost = None,
    rabbitmq: Provision = True,
    admin_url: AdminUrl = None,
) -> None:
    """Create an agency: its RabbitMQ user, confined permissions, and its database row.

    The user may publish to the exchange particulier.requests and configure, read and write
    only the queues named reply.<user>.*  (see docs/habilitations.md). Idempotent.
    """
    try:
        siret = admin.validate_siret(siret)
        admin.validate_user(user)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if rabbitmq:
        _provision(user, password, vhost)
    try:
        agency = with_admin(
            admin_url, lambda c: admin.create_agency(c, name, siret=siret, user=user)
        )
    except admin.AgencyConflict as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"agency {agency.id} {agency.name} (SIRET {agency.siret}, user {agency.rabbitmq_user})"
    )


def _provision(user: str, password: str | None, vhost: str | None) -> None:
    """The RabbitMQ user of an agency or an editor: publish requests, own reply queues."""
    settings = ProvisioningSettings()
    broker = RabbitMQ(
        vhost or vhost_of(node_urls(settings.amqp_url)[0]),
        rabbitmqctl=settings.rabbitmqctl,
        node=settings.rabbitmq_node,
    )
    try:
        generated = None
        if password is None and user not in broker.users():
            password = generated = secrets.token_urlsafe(24)
        created = broker.ensure_user(user, password)
        permissions = broker.grant_agency(user)
    except ProvisioningError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"RabbitMQ user {user} {'created' if created else 'updated'} on vhost "
        f"{broker.vhost}: configure {permissions.configure!r}, write "
        f"{permissions.write!r}, read {permissions.read!r}"
    )
    if generated is not None:
        typer.echo(f"password (shown once): {generated}")


@agencies_app.command("list")
def list_agencies_command(as_json: AsJson = False, admin_url: AdminUrl = None) -> None:
    """List agencies."""
    listing(
        with_admin(admin_url, admin.list_agencies),
        as_json,
        {
            "id": lambda a: str(a.id),
            "name": lambda a: a.name,
            "SIRET": lambda a: a.siret,
            "RabbitMQ user": lambda a: a.rabbitmq_user,
            "created": lambda a: a.created_at,
        },
    )


@habilitations_app.command("grant")
def grant_command(
    agency: Annotated[str, typer.Argument(help="The agency's name.")],
    legal_basis: Annotated[
        str, typer.Option("--legal-basis", help="Why it may see the data (text).")
    ],
    legal_reference: Annotated[
        str, typer.Option("--legal-reference", help="The text of law, decree or decision.")
    ],
    dataset: Annotated[
        list[str],
        typer.Option(
            "--dataset", "-d", help="Dataset id, e.g. cnav.quotient_familial (repeatable)."
        ),
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", "-s", help="A scope granted (repeatable).", show_default=False),
    ] = None,
    all_scopes: Annotated[
        bool, typer.Option("--all-scopes", help="Every scope of the datasets.")
    ] = False,
    valid_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start (ISO 8601; UTC unless an offset is given); default now.",
            show_default=False,
        ),
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option("--until", help="End, exclusive; default none.", show_default=False),
    ] = None,
    rate_interactive: Annotated[
        str,
        typer.Option(
            "--rate-interactive",
            help="Requests per second on the interactive lane, or 'unlimited'.",
        ),
    ] = f"{admin.DEFAULT_INTERACTIVE_RATE:g}",
    rate_bulk: Annotated[
        str,
        typer.Option("--rate-bulk", help="Requests per second on the bulk lane, or 'unlimited'."),
    ] = "unlimited",
    unchecked: Annotated[
        bool, typer.Option("--unchecked", help="Accept datasets no provider package declares.")
    ] = False,
    mode: Annotated[
        list[Mode] | None,
        typer.Option(
            "--mode",
            help="How requests may name the person (repeatable): identity, france_connect. "
            "Default identity.",
            show_default=False,
        ),
    ] = None,
    admin_url: AdminUrl = None,
) -> None:
    """Grant scopes of datasets to an agency under a legal basis; prints the habilitation id."""
    known: dict[str, set[str]] = {}
    for declared in registry.datasets():
        known.setdefault(declared.id, set()).update(declared.scopes)
    try:
        pairs = admin.resolve_scopes(
            dataset, scope or [], all_scopes=all_scopes, known=known, unchecked=unchecked
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    start, end = _when(valid_from), _when(valid_until)
    interactive, bulk = _rate(rate_interactive), _rate(rate_bulk)
    try:
        habilitation_id = with_admin(
            admin_url,
            lambda c: admin.grant(
                c,
                agency,
                pairs,
                legal_basis=legal_basis,
                legal_reference=legal_reference,
                valid_from=start,
                valid_until=end,
                rate_interactive=interactive,
                rate_bulk=bulk,
                modes=mode or [Mode.IDENTITY],
            ),
        )
    except LookupError:
        raise fail(f"no agency named {agency!r}") from None
    except (ValueError, asyncpg.CheckViolationError) as exc:
        raise fail(f"refused: {exc}") from None
    typer.echo(str(habilitation_id))


@habilitations_app.command("revoke")
def revoke_command(
    habilitation_id: Annotated[int, typer.Argument(metavar="ID", help="The habilitation's id.")],
    admin_url: AdminUrl = None,
) -> None:
    """Revoke a habilitation now; workers stop honouring it within seconds."""
    if not with_admin(admin_url, lambda c: admin.revoke(c, habilitation_id)):
        raise fail(f"no habilitation {habilitation_id} in force")
    typer.echo(f"revoked {habilitation_id}")


@habilitations_app.command("list")
def list_habilitations_command(
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only this agency.", show_default=False)
    ] = None,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Include revoked, expired and future ones.")
    ] = False,
    as_json: AsJson = False,
    admin_url: AdminUrl = None,
) -> None:
    """List habilitations in force (or all of them)."""
    found = with_admin(
        admin_url,
        lambda c: admin.list_habilitations(c, agency=agency, include_inactive=include_inactive),
    )
    listing(
        found,
        as_json,
        {
            "id": lambda h: str(h.id),
            "agency": lambda h: h.agency,
            "scopes": lambda h: "\n".join(f"{d}: {', '.join(s)}" for d, s in h.scopes.items()),
            "legal basis": lambda h: f"{h.legal_basis}\n({h.legal_reference})",
            "from": lambda h: h.valid_from,
            "until": lambda h: h.valid_until,
            "revoked": lambda h: h.revoked_at,
            "interactive/s": lambda h: _per_second(h.rate_interactive),
            "bulk/s": lambda h: _per_second(h.rate_bulk),
            "modes": lambda h: ", ".join(h.modes),
        },
    )


france_connect_app = typer.Typer(
    no_args_is_help=True,
    help="An agency's FranceConnect clients: whose tokens it may present in FranceConnect mode.",
)
agencies_app.add_typer(france_connect_app, name="france-connect")


@france_connect_app.command("add")
def add_france_connect_command(
    agency: Annotated[str, typer.Argument(help="The agency's name.")],
    client_id: Annotated[str, typer.Argument(help="Its service's FranceConnect client id.")],
    admin_url: AdminUrl = None,
) -> None:
    """Register a FranceConnect client of the agency (tokens it obtains are the agency's)."""
    try:
        with_admin(admin_url, lambda c: admin.add_france_connect_client(c, agency, client_id))
    except LookupError:
        raise fail(f"no agency named {agency!r}") from None
    except (ValueError, admin.AgencyConflict) as exc:
        raise fail(f"refused: {exc}") from None
    typer.echo(f"{agency}: FranceConnect client added")


@france_connect_app.command("remove")
def remove_france_connect_command(
    client_id: Annotated[str, typer.Argument(help="The FranceConnect client id.")],
    admin_url: AdminUrl = None,
) -> None:
    """Remove a FranceConnect client: its tokens are refused from then on."""
    if not with_admin(admin_url, lambda c: admin.remove_france_connect_client(c, client_id)):
        raise fail("no such FranceConnect client")
    typer.echo("FranceConnect client removed")


@france_connect_app.command("list")
def list_france_connect_command(
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only this agency.", show_default=False)
    ] = None,
    admin_url: AdminUrl = None,
) -> None:
    """The FranceConnect clients, by agency."""
    for name, client in with_admin(
        admin_url, lambda c: admin.list_france_connect_clients(c, agency=agency)
    ):
        typer.echo(f"{name}\t{client}")


@habilitations_app.command("seed-demo")
def seed_demo_command(admin_url: AdminUrl = None) -> None:
    """Demo agency 'Démo' (RabbitMQ user guest, SIRET 13002526500013) with every scope of
    every declared dataset and no rate limit. Idempotent; rerun after adding datasets."""
    seed = with_admin(admin_url, lambda c: admin.seed_demo(c, registry.datasets()))
    typer.echo(f"demo habilitation {seed.habilitation_id}: {seed.added} scope(s) added")


editors_app = typer.Typer(
    no_args_is_help=True, help="Editors: software vendors acting for agencies under delegation."
)
delegations_app = typer.Typer(
    no_args_is_help=True, help="Delegations: which editor may act for which agency."
)


@editors_app.command("create")
def create_editor_command(
    name: Annotated[str, typer.Argument(help="The editor's name, e.g. 'Logiciel Mairie'.")],
    user: Annotated[
        str, typer.Option("--user", help="Its RabbitMQ login: letters, digits, _ and -.")
    ],
    password: Password = None,
    vhost: Vhost = None,
    rabbitmq: Provision = True,
    admin_url: AdminUrl = None,
) -> None:
    """Create an editor: its RabbitMQ user (an agency's permissions: publish requests, its own
    reply queues) and its row. It may ask for nobody until delegations say for whom."""
    try:
        admin.validate_user(user)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if rabbitmq:
        _provision(user, password, vhost)
    try:
        editor = with_admin(admin_url, lambda c: editors.create_editor(c, name, user=user))
    except editors.EditorConflict as exc:
        raise fail(str(exc)) from None
    typer.echo(f"editor {editor.id} {editor.name} (user {editor.rabbitmq_user})")


@editors_app.command("list")
def list_editors_command(as_json: AsJson = False, admin_url: AdminUrl = None) -> None:
    """The editors."""
    listing(
        with_admin(admin_url, editors.list_editors),
        as_json,
        {
            "id": lambda e: str(e.id),
            "name": lambda e: e.name,
            "RabbitMQ user": lambda e: e.rabbitmq_user,
            "created": lambda e: e.created_at,
        },
    )


@delegations_app.command("grant")
def delegate_command(
    editor: Annotated[str, typer.Argument(help="The editor's name.")],
    agency: Annotated[str, typer.Argument(help="The agency's name.")],
    admin_url: AdminUrl = None,
) -> None:
    """Let the editor act for the agency: its requests naming the agency (on_behalf_of, its name
    or SIRET) are then authorised by the agency's habilitations."""
    try:
        delegation = with_admin(admin_url, lambda c: editors.delegate(c, editor, agency))
    except LookupError as exc:
        raise fail(f"no {exc.args[0]} of that name") from None
    typer.echo(f"delegation {delegation.id}: {editor} acts for {agency}")


@delegations_app.command("revoke")
def revoke_delegation_command(
    editor: Annotated[str, typer.Argument(help="The editor's name.")],
    agency: Annotated[str, typer.Argument(help="The agency's name.")],
    admin_url: AdminUrl = None,
) -> None:
    """Revoke the delegation now (the workers refuse within seconds)."""
    if not with_admin(admin_url, lambda c: editors.revoke_delegation(c, editor, agency)):
        raise fail("no such delegation in force")
    typer.echo(f"{editor} no longer acts for {agency}")


@delegations_app.command("list")
def list_delegations_command(
    editor: Annotated[
        str | None, typer.Option("--editor", help="Only this editor's.", show_default=False)
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="Only those in force.")] = False,
    as_json: AsJson = False,
    admin_url: AdminUrl = None,
) -> None:
    """The delegations, in force and revoked."""
    delegations = with_admin(
        admin_url, lambda c: editors.list_delegations(c, editor=editor, active=active)
    )
    listing(
        delegations,
        as_json,
        {
            "id": lambda d: str(d.id),
            "editor": lambda d: d.editor,
            "agency": lambda d: d.agency,
            "SIRET": lambda d: d.siret,
            "since": lambda d: d.created_at,
            "revoked": lambda d: d.revoked_at,
        },
        active=lambda d: d.active,
    )
