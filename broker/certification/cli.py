"""``particulier keys ...`` (signing keys and their rotation) and ``particulier verify``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ..sdk.proof import CertificationError, Verifier, request_hash
from ._keys import (
    DEV_KEYS_DIR,
    KEYS_DIR_ENV,
    KeyRing,
    describe_dir,
    generate_in,
    load_dir,
    retire_in,
)

keys_app = typer.Typer(
    help="Manage the Ed25519 keys that sign replies. Rotation: `generate` a new current key, "
    "roll the workers, let clients refresh the JWKS, then `retire` the old kid.",
    no_args_is_help=True,
)

_DIR_HELP = (
    "Key directory: one <kid>.jwk private key per kid and keyring.json "
    f"(default: ${KEYS_DIR_ENV}, else {DEV_KEYS_DIR}/)."
)
_WriteDir = Annotated[
    Path, typer.Option("--dir", envvar=KEYS_DIR_ENV, help=_DIR_HELP, file_okay=False)
]
_ReadDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar=KEYS_DIR_ENV,
        file_okay=False,
        help=_DIR_HELP + " Without it, the keys a worker would load "
        "($PARTICULIER_SIGNING_KEY, or the development directory).",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _ring(directory: Path | None) -> KeyRing:
    try:
        return load_dir(directory) if directory is not None else KeyRing.load()
    except CertificationError as exc:
        _fail(f"error: {exc.reason}")


@keys_app.command()
def generate(
    directory: _WriteDir = DEV_KEYS_DIR,
    kid: Annotated[
        str | None,
        typer.Option(help="Kid of the new key (default: YYYYMMDD-<thumbprint prefix>)."),
    ] = None,
) -> None:
    """Add a new key and make it current; the previous keys stay listed in the JWKS."""
    try:
        new_kid = generate_in(directory, kid=kid)
    except CertificationError as exc:
        _fail(f"error: {exc.reason}")
    typer.echo(new_kid)


@keys_app.command()
def jwks(
    directory: _ReadDir = None,
    out: Annotated[
        Path | None, typer.Option("--out", dir_okay=False, help="Write to FILE, not stdout.")
    ] = None,
) -> None:
    """Print the public JWKS (every listed key) that clients verify replies with."""
    text = json.dumps(_ring(directory).jwks(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@keys_app.command()
def retire(
    kid: Annotated[str, typer.Argument(help="The kid to stop listing.")],
    directory: _WriteDir = DEV_KEYS_DIR,
) -> None:
    """Stop listing KID: replies it signed no longer verify; its private key is deleted.

    The current key cannot be retired: generate its successor first.
    """
    try:
        retire_in(directory, kid)
    except CertificationError as exc:
        _fail(f"error: {exc.reason}")
    typer.echo(f"retired {kid}")


@keys_app.command("france-connect")
def france_connect_key(
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The file to write.")],
) -> None:
    """Write a new private encryption key (RSA) for FranceConnect mode: point
    PARTICULIER_FRANCE_CONNECT_KEY at the file; its public half is published with the JWKS."""
    from ..france_connect import new_encryption_key

    if out.exists():
        raise typer.BadParameter(f"{out} exists: not overwritten")
    out.write_text(json.dumps({"keys": [new_encryption_key()]}, indent=2) + "\n")
    out.chmod(0o600)
    typer.echo(f"wrote {out}")


@keys_app.command("list")
def list_keys(directory: _ReadDir = None) -> None:
    """List the kids with their status: current (signs), listed (verifies only), retired."""
    if directory is None:
        ring = _ring(None)
        rows = [(kid, "current" if kid == ring.current_kid else "listed") for kid in ring.kids]
    else:
        try:
            rows = describe_dir(directory)
        except CertificationError as exc:
            _fail(f"error: {exc.reason}")
    for kid, status in rows:
        typer.echo(f"{kid}\t{status}")


def _read_object(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        _fail(f"invalid: cannot read {what} as JSON")
    if not isinstance(value, dict):
        _fail(f"invalid: {what} is not a JSON object")
    return value


def _request_hash_of(request: dict[str, Any]) -> str:
    params = request.get("params") or {}
    if not isinstance(params, dict):
        _fail("invalid: the request's params is not a JSON object")
    try:
        return request_hash(
            dataset=request["dataset"],
            version=request.get("version"),
            params=params,
            recipient=request.get("recipient"),
            message_id=request["message_id"],
            requester=request["requester"],
        )
    except (KeyError, TypeError, CertificationError):
        _fail("invalid: the request file needs dataset, params, message_id and requester")


def verify_command(
    reply: Annotated[Path, typer.Argument(help="The reply body as received (JSON).")],
    jwks: Annotated[
        Path, typer.Option("--jwks", help="Public JWKS (from /.well-known/jwks.json).")
    ],
    request: Annotated[
        Path | None,
        typer.Option(
            "--request",
            help="The request (JSON: dataset, version, params, recipient, message_id, "
            "requester) the reply must answer.",
        ),
    ] = None,
) -> None:
    """Check a reply's proof of origin; exit 0 if genuine (and answering REQUEST), else 1."""
    body = _read_object(reply, "the reply")
    try:
        verifier = Verifier(_read_object(jwks, "the JWKS"))
    except CertificationError as exc:
        _fail(f"invalid: {exc.reason}")
    expected = _request_hash_of(_read_object(request, "the request")) if request else None
    try:
        header = verifier.verify(body, request_hash=expected)
    except CertificationError as exc:
        _fail(f"invalid: {exc.reason}")
    issued = datetime.fromtimestamp(header["iat"], UTC).isoformat().replace("+00:00", "Z")
    matched = ", request matches" if expected else ""
    typer.echo(f"valid: kid={header['kid']}, dataset={header['dataset']}, issued {issued}{matched}")
