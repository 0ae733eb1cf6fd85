"""Signing keys: where they live, how they rotate, and the public JWKS built from them.

A key directory holds one private OKP JWK per kid (``<kid>.jwk``, mode 0600) and
``keyring.json``, ``{"current": kid, "keys": [kid, ...]}``: ``keys`` lists, newest first, every
kid published in the JWKS, so that replies signed before a rotation keep verifying; ``current``
is the one kid that signs. Retiring a kid drops it from ``keys``, destroys its private key and
keeps only its public JWK under ``retired/`` as a record. Nothing here logs key material.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings
from joserfc.jwk import OKPKey

from ..sdk.proof import (
    ALG,
    BAD_KEY,
    CURRENT_KEY,
    NO_KEY,
    UNKNOWN_KID,
    CertificationError,
    b64url,
    b64url_decode,
)

log = logging.getLogger(__name__)

KEYS_DIR_ENV = "PARTICULIER_SIGNING_KEYS_DIR"
KEY_ENV = "PARTICULIER_SIGNING_KEY"
DEV_KEYS_DIR = Path(".local") / "keys"
KEYRING_FILE = "keyring.json"
RETIRED_DIR = "retired"

_KID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._:-]{0,63}")


def check_kid(kid: str) -> str:
    """Kids name files, so they are restricted to a safe alphabet (no ``/``, no leading dot)."""
    if not _KID.fullmatch(kid):
        raise CertificationError(BAD_KEY)
    return kid


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One Ed25519 key; ``secret`` (libsodium's 64-byte form) is absent for listed-only keys."""

    kid: str
    public: bytes
    secret: bytes | None = field(default=None, repr=False)

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public).decode("ascii"),
            "kid": self.kid,
            "alg": ALG,
            "use": "sig",
        }


def key_from_jwk(jwk: Mapping[str, Any], *, kid: str | None = None) -> SigningKey:
    """Import an Ed25519 OKP JWK (private or public), checking that ``x`` matches ``d``.

    Every failure is the bare ``bad-key`` code: parser messages could quote the secret.
    """
    try:
        okp = OKPKey.import_key(dict(jwk))
        if okp.as_dict(private=False).get("crv") != "Ed25519":
            raise CertificationError(BAD_KEY)
        chosen = check_kid(kid or str(jwk.get("kid") or okp.thumbprint()))
        public = b64url_decode(str(jwk["x"]))
        if len(public) != nacl.bindings.crypto_sign_PUBLICKEYBYTES:
            raise CertificationError(BAD_KEY)
        if not okp.is_private:
            return SigningKey(chosen, public)
        seed = b64url_decode(str(jwk["d"]))
        derived, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        if derived != public:
            raise CertificationError(BAD_KEY)
        return SigningKey(chosen, public, secret)
    except CertificationError:
        raise
    except Exception:
        raise CertificationError(BAD_KEY) from None


def new_private_jwk(kid: str | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """A fresh Ed25519 private JWK; the default kid is ``YYYYMMDD-<thumbprint prefix>``."""
    okp = OKPKey.generate_key("Ed25519", private=True)
    jwk: dict[str, Any] = dict(okp.as_dict(private=True))
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    jwk["kid"] = check_kid(kid or f"{day}-{okp.thumbprint()[:12]}")
    jwk["alg"] = ALG
    jwk["use"] = "sig"
    return jwk


class KeyRing:
    """The signing keys a worker holds: one current kid signs, every listed kid is published."""

    def __init__(self, keys: Sequence[SigningKey], current: str) -> None:
        by_kid: dict[str, SigningKey] = {}
        for key in keys:
            if key.kid in by_kid:
                raise CertificationError(BAD_KEY)
            by_kid[key.kid] = key
        if current not in by_kid:
            raise CertificationError(UNKNOWN_KID)
        if by_kid[current].secret is None:
            raise CertificationError(NO_KEY)
        self._keys = by_kid
        self._current = current

    @classmethod
    def from_jwks(cls, jwks: Sequence[Mapping[str, Any]], current: str | None = None) -> KeyRing:
        """A ring from private JWKs; the first one is current unless ``current`` says otherwise."""
        keys = [key_from_jwk(jwk) for jwk in jwks]
        if not keys:
            raise CertificationError(NO_KEY)
        return cls(keys, current or keys[0].kid)

    @classmethod
    def generate(cls) -> KeyRing:
        """A ring of one fresh key held in memory only (the in-memory harness)."""
        return cls.from_jwks([new_private_jwk()])

    @classmethod
    def load(cls, settings_dir: str | None = None) -> KeyRing:
        """The ring this process signs with, from the first source that is set.

        ``settings_dir``, then ``$PARTICULIER_SIGNING_KEYS_DIR`` (a key directory), then
        ``$PARTICULIER_SIGNING_KEY`` (one private JWK, or ``{"keys": [...]}`` with the current
        key first), else the development directory ``.local/keys/`` under the working directory,
        where a key is generated on first use.
        """
        if settings_dir:
            return load_dir(Path(settings_dir))
        env_dir = os.environ.get(KEYS_DIR_ENV)
        if env_dir:
            return load_dir(Path(env_dir))
        env_key = os.environ.get(KEY_ENV)
        if env_key:
            return _load_env(env_key)
        return _load_dev(Path.cwd() / DEV_KEYS_DIR)

    @property
    def current_kid(self) -> str:
        return self._current

    @property
    def kids(self) -> list[str]:
        """Every listed kid, current first."""
        return [self._current, *(k for k in self._keys if k != self._current)]

    @property
    def current(self) -> SigningKey:
        return self._keys[self._current]

    def jwks(self) -> dict[str, Any]:
        """The public JWKS of every listed key: what clients verify replies with."""
        return {"keys": [self._keys[kid].public_jwk() for kid in self.kids]}

    def __repr__(self) -> str:
        return f"KeyRing(current={self._current!r}, kids={self.kids!r})"


def _load_env(value: str) -> KeyRing:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise CertificationError(BAD_KEY) from None
    if isinstance(parsed, dict) and isinstance(parsed.get("keys"), list):
        return KeyRing.from_jwks(parsed["keys"])
    if not isinstance(parsed, dict):
        raise CertificationError(BAD_KEY)
    return KeyRing.from_jwks([parsed])


# --- key directories -------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError):
        raise CertificationError(BAD_KEY) from None


def read_keyring(directory: Path) -> tuple[str, list[str]]:
    """``(current, listed kids)`` of a key directory; ``no-key`` when there is none."""
    try:
        ring = _read_json(directory / KEYRING_FILE)
    except FileNotFoundError:
        singles = sorted(directory.glob("*.jwk")) if directory.is_dir() else []
        if len(singles) == 1:
            return singles[0].stem, [singles[0].stem]
        raise CertificationError(NO_KEY) from None
    if (
        not isinstance(ring, dict)
        or not isinstance(ring.get("current"), str)
        or not isinstance(ring.get("keys"), list)
        or not all(isinstance(k, str) for k in ring["keys"])
        or ring["current"] not in ring["keys"]
    ):
        raise CertificationError(BAD_KEY)
    return ring["current"], [check_kid(k) for k in ring["keys"]]


def _read_key(directory: Path, kid: str) -> SigningKey:
    path = directory / f"{check_kid(kid)}.jwk"
    try:
        jwk = _read_json(path)
    except FileNotFoundError:
        raise CertificationError(UNKNOWN_KID) from None
    if not isinstance(jwk, dict):
        raise CertificationError(BAD_KEY)
    if "d" in jwk and path.stat().st_mode & 0o077:
        log.warning("signing key file %s is readable by group or others; chmod 600 it", path)
    return key_from_jwk(jwk, kid=kid)


def load_dir(directory: Path) -> KeyRing:
    """The ring described by ``directory/keyring.json``."""
    current, listed = read_keyring(directory)
    return KeyRing([_read_key(directory, kid) for kid in listed], current)


def _write_private(path: Path, content: str, *, exclusive: bool) -> None:
    """Write a file readable by its owner only; atomically unless ``exclusive`` (new key)."""
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_keyring(directory: Path, current: str, listed: list[str]) -> None:
    body = json.dumps({"current": current, "keys": listed}, indent=2) + "\n"
    _write_private(directory / KEYRING_FILE, body, exclusive=False)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise changes to a key directory (two workers starting, a rotation meanwhile)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def generate_in(directory: Path, *, kid: str | None = None) -> str:
    """Add a new key to ``directory`` and make it current; the others stay listed."""
    with _locked(directory):
        try:
            _, listed = read_keyring(directory)
        except CertificationError as exc:
            if exc.reason != NO_KEY:
                raise
            listed = []
        jwk = new_private_jwk(kid)
        new_kid = str(jwk["kid"])
        if new_kid in listed or (directory / f"{new_kid}.jwk").exists():
            raise CertificationError(BAD_KEY)
        _write_private(directory / f"{new_kid}.jwk", json.dumps(jwk) + "\n", exclusive=True)
        _write_keyring(directory, new_kid, [new_kid, *listed])
        return new_kid


def retire_in(directory: Path, kid: str) -> None:
    """Stop listing ``kid``: its replies stop verifying, its private key is destroyed.

    The current key cannot be retired: generate its successor first.
    """
    with _locked(directory):
        current, listed = read_keyring(directory)
        if kid not in listed:
            raise CertificationError(UNKNOWN_KID)
        if kid == current:
            raise CertificationError(CURRENT_KEY)
        key = _read_key(directory, kid)
        archive = directory / RETIRED_DIR
        archive.mkdir(mode=0o700, exist_ok=True)
        record = dict(key.public_jwk(), retired_at=datetime.now(UTC).isoformat(timespec="seconds"))
        _write_private(archive / f"{kid}.jwk", json.dumps(record) + "\n", exclusive=False)
        _write_keyring(directory, current, [k for k in listed if k != kid])
        (directory / f"{kid}.jwk").unlink()


def describe_dir(directory: Path) -> list[tuple[str, str]]:
    """``(kid, status)`` for every key the directory knows: current, listed or retired."""
    current, listed = read_keyring(directory)
    rows = [(kid, "current" if kid == current else "listed") for kid in listed]
    archive = directory / RETIRED_DIR
    if archive.is_dir():
        rows += [(p.stem, "retired") for p in sorted(archive.glob("*.jwk"))]
    return rows


def _load_dev(directory: Path) -> KeyRing:
    """The development ring, created with a warning on first use so that `make run` just works."""
    with _locked(directory):
        if not (directory / KEYRING_FILE).exists() and not any(directory.glob("*.jwk")):
            jwk = new_private_jwk()
            kid = str(jwk["kid"])
            _write_private(directory / f"{kid}.jwk", json.dumps(jwk) + "\n", exclusive=True)
            _write_keyring(directory, kid, [kid])
            log.warning(
                "no signing key configured (%s or %s): generated development key %s in %s; "
                "replies signed with it prove nothing outside this machine",
                KEYS_DIR_ENV,
                KEY_ENV,
                kid,
                directory,
            )
    return load_dir(directory)
