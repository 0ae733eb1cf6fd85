"""``particulier gateway`` and ``particulier tokens``: the REST interface and its tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, TypeVar

import asyncpg
import typer

from .._cli import AdminUrl, AsJson, fail, listing, with_admin
from ..habilitations.editors import create_editor, delegate
from ._settings import GatewaySettings
from ._tokens import issue_token, list_tokens, revoke_token

__all__ = ["gateway_command", "tokens_app"]

T = TypeVar("T")

tokens_app = typer.Typer(no_args_is_help=True, help="The REST gateway's bearer tokens.")


@tokens_app.command("issue")
def issue_command(
    agency: Annotated[str, typer.Argument(help="The agency's name, or its id.")],
    days: Annotated[int, typer.Option("--days", help="Days of validity.")] = 548,
    label: Annotated[str, typer.Option("--label", help="What it is for.")] = "",
    admin_url: AdminUrl = None,
) -> None:
    """Issue a token for the agency (valid 18 months by default) and let the gateway act for
    it (its delegation). The token is printed alone on the last line, once: only its SHA-256
    is kept."""
    settings = GatewaySettings()

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        async with conn.transaction():
            issued = await issue_token(conn, agency, lifetime=timedelta(days=days), label=label)
            await create_editor(conn, settings.gateway_editor, user=settings.gateway_user)
            await delegate(conn, settings.gateway_editor, issued.info.agency)
        return issued.info.agency, issued.token

    try:
        name, token = with_admin(admin_url, work)
    except LookupError:
        raise fail(f"no agency {agency!r}") from None
    typer.echo(f"token for {name}, valid {days} days; the gateway acts for it:")
    typer.echo(token)


@tokens_app.command("revoke")
def revoke_command(
    token_id: Annotated[int, typer.Argument(help="The token's id (tokens list).")],
    admin_url: AdminUrl = None,
) -> None:
    """Revoke a token now: the gateway answers it 401 00105 within seconds."""
    if not with_admin(admin_url, lambda c: revoke_token(c, token_id)):
        raise fail("no such token in force")
    typer.echo(f"token {token_id} revoked")


@tokens_app.command("list")
def list_command(
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only this agency's.", show_default=False)
    ] = None,
    as_json: AsJson = False,
    admin_url: AdminUrl = None,
) -> None:
    """The tokens (never their value): agency, label, validity, state."""
    tokens = with_admin(admin_url, lambda c: list_tokens(c, agency=agency))
    listing(
        tokens,
        as_json,
        {
            "id": lambda t: str(t.id),
            "agency": lambda t: t.agency,
            "label": lambda t: t.label,
            "created": lambda t: f"{t.created_at:%Y-%m-%d}",
            "expires": lambda t: f"{t.expires_at:%Y-%m-%d}",
            "state": lambda t: t.state.value,
        },
        state=lambda t: t.state.value,
    )


def gateway_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8800,
) -> None:
    """Serve API Particulier's REST interface over the broker (docs/gateway.md)."""
    from ._serve import serve

    asyncio.run(serve(host, port))
