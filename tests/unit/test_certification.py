"""Certified replies (issue 4): proofs verify, tampering and misuse are caught, keys rotate."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import random
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import rfc8785
import typer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from typer.testing import CliRunner

from broker.certification import (
    CertificationError,
    Certifier,
    KeyRing,
    Verifier,
    canonical,
    reply_digest,
    request_hash,
)
from broker.certification._example import (
    EXAMPLE_ISSUED_AT,
    EXAMPLE_JWK,
    EXAMPLE_REPLY,
    EXAMPLE_REQUEST,
    build,
    markdown,
)
from broker.certification._jws import _json_string, _protected_header, ed25519_sign
from broker.certification._keys import generate_in, key_from_jwk, load_dir, retire_in
from broker.certification.cli import keys_app, verify_command
from broker.sdk._canonical import _fast_path_is_exact
from broker.sdk.contract import ReplyBody

DOCS = Path(__file__).resolve().parents[2] / "docs" / "certification.md"
NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARTICULIER_SIGNING_KEYS_DIR", raising=False)
    monkeypatch.delenv("PARTICULIER_SIGNING_KEY", raising=False)


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def a_request(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(EXAMPLE_REQUEST), **changes}


def a_reply() -> dict[str, Any]:
    """A reply body as the worker builds it: through the contract model, dumped to JSON types."""
    return ReplyBody.model_validate(EXAMPLE_REPLY).model_dump(mode="json")


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    generate_in(tmp_path / "keys")
    return load_dir(tmp_path / "keys")


def signed(certifier: Certifier, reply: dict[str, Any], **request: Any) -> dict[str, Any]:
    req = a_request(**request)
    proof = certifier.sign(
        reply, dataset=req["dataset"], request_hash=request_hash(**req), issued_at=NOW
    )
    return {**reply, "proof": proof}


def reason(exc: pytest.ExceptionInfo[CertificationError]) -> str:
    return exc.value.reason


# --- the proof ---------------------------------------------------------------------------------


def test_a_reply_verifies_and_is_bound_to_its_request(ring: KeyRing) -> None:
    reply = signed(Certifier(ring), a_reply())
    header = Verifier(ring.jwks()).verify(reply, request_hash=request_hash(**a_request()))
    assert header == {
        "alg": "EdDSA",
        "dataset": "cnav.quotient_familial",
        "iat": int(NOW.timestamp()),
        "kid": ring.current_kid,
        "request_hash": request_hash(**a_request()),
    }
    assert ReplyBody.model_validate(reply).proof == reply["proof"]


def test_the_proof_is_a_detached_compact_jws(ring: KeyRing) -> None:
    proof = signed(Certifier(ring), a_reply())["proof"]
    encoded_header, payload, signature = proof.split(".")
    assert payload == ""
    assert len(b64d(signature)) == 64
    assert json.loads(b64d(encoded_header))["alg"] == "EdDSA"


def test_an_error_reply_verifies_too(ring: KeyRing) -> None:
    reply: dict[str, Any] = {
        "status": 422,
        "data": None,
        "errors": [
            {
                "code": "00801",
                "title": "Message illisible",
                "detail": "…",
                "source": None,
                "meta": {},
            }
        ],
        "meta": {"request_id": "m-1", "issued_at": "2025-03-14T09:26:53Z"},
    }
    req_hash = request_hash(
        dataset="?", version=None, params={}, recipient=None, message_id="m-1", requester=""
    )
    proof = Certifier(ring).sign(reply, dataset=None, request_hash=req_hash, issued_at=NOW)
    header = Verifier(ring.jwks()).verify({**reply, "proof": proof}, request_hash=req_hash)
    assert header["dataset"] is None


def test_one_byte_changed_in_the_data_fails(ring: KeyRing) -> None:
    certifier, verifier = Certifier(ring), Verifier(ring.jwks())
    published = json.dumps(signed(certifier, a_reply()), ensure_ascii=False).encode()
    verifier.verify(json.loads(published))
    at = published.index(b'"valeur": 200') + len(b'"valeur": 20')
    tampered = published[:at] + b"1" + published[at + 1 :]
    with pytest.raises(CertificationError) as exc:
        verifier.verify(json.loads(tampered))
    assert reason(exc) == "bad-signature"
    reply = signed(certifier, a_reply())
    reply["data"]["allocataires"][0]["prenoms"] = "PIERRE ALEXIS FRANCOIS"
    with pytest.raises(CertificationError, match=r"^bad-signature$"):
        verifier.verify(reply)


def test_an_added_member_fails(ring: KeyRing) -> None:
    reply = signed(Certifier(ring), a_reply())
    reply["meta"]["extra"] = None
    with pytest.raises(CertificationError, match=r"^bad-signature$"):
        Verifier(ring.jwks()).verify(reply)


@pytest.mark.parametrize(
    ("member", "value"),
    [("iat", 1), ("dataset", "cnav.prime_activite"), ("request_hash", "0" * 64), ("x", 1)],
)
def test_a_changed_protected_header_fails(ring: KeyRing, member: str, value: Any) -> None:
    reply = signed(Certifier(ring), a_reply())
    encoded_header, _, signature = reply["proof"].split(".")
    header = json.loads(b64d(encoded_header))
    header[member] = value
    reply["proof"] = f"{b64e(json.dumps(header).encode())}..{signature}"
    with pytest.raises(CertificationError, match=r"^bad-signature$"):
        Verifier(ring.jwks()).verify(reply)


def test_a_reply_moved_onto_another_request_fails(ring: KeyRing) -> None:
    reply = signed(Certifier(ring), a_reply())
    verifier = Verifier(ring.jwks())
    for other in (
        a_request(message_id="another-message"),
        a_request(requester="another-agency"),
        a_request(recipient="21750001600019"),
        a_request(version=3),
        a_request(params={**EXAMPLE_REQUEST["params"], "prenoms": ["PAUL"]}),
    ):
        with pytest.raises(CertificationError) as exc:
            verifier.verify(reply, request_hash=request_hash(**other))
        assert reason(exc) == "request-mismatch"


def test_unknown_kid_fails(ring: KeyRing, tmp_path: Path) -> None:
    reply = signed(Certifier(ring), a_reply())
    generate_in(tmp_path / "other")
    with pytest.raises(CertificationError, match=r"^unknown-kid$"):
        Verifier(load_dir(tmp_path / "other").jwks()).verify(reply)


def test_a_key_with_another_kid_listed_under_the_same_kid_fails(ring: KeyRing) -> None:
    """A JWKS that lists another key under the signer's kid: the signature does not match."""
    reply = signed(Certifier(ring), a_reply())
    impostor = KeyRing.from_jwks([{**EXAMPLE_JWK, "kid": ring.current_kid}])
    with pytest.raises(CertificationError, match=r"^bad-signature$"):
        Verifier(impostor.jwks()).verify(reply)


@pytest.mark.parametrize(
    ("proof", "expected"),
    [
        (None, "no-proof"),
        (42, "no-proof"),
        ("", "malformed"),
        ("a.b", "malformed"),
        ("a.b.c.d", "malformed"),
        ("!!..AAAA", "malformed"),
    ],
)
def test_malformed_proofs_fail(ring: KeyRing, proof: Any, expected: str) -> None:
    reply = {**a_reply(), "proof": proof}
    if proof is None:
        del reply["proof"]
    with pytest.raises(CertificationError) as exc:
        Verifier(ring.jwks()).verify(reply)
    assert reason(exc) == expected


def _reheader(reply: dict[str, Any], **changes: Any) -> dict[str, Any]:
    encoded_header, _, signature = reply["proof"].split(".")
    header = {**json.loads(b64d(encoded_header)), **changes}
    header = {k: v for k, v in header.items() if v is not ...}
    return {**reply, "proof": f"{b64e(json.dumps(header).encode())}..{signature}"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"alg": "none"}, "unsupported-alg"),
        ({"alg": "HS256"}, "unsupported-alg"),
        ({"alg": ...}, "malformed"),
        ({"crit": ["b64"], "b64": False}, "malformed"),
        ({"iat": "2025"}, "malformed"),
        ({"kid": ...}, "malformed"),
        ({"request_hash": ...}, "malformed"),
        ({"dataset": ...}, "malformed"),
    ],
)
def test_headers_outside_the_profile_fail(
    ring: KeyRing, changes: dict[str, Any], expected: str
) -> None:
    reply = _reheader(signed(Certifier(ring), a_reply()), **changes)
    with pytest.raises(CertificationError) as exc:
        Verifier(ring.jwks()).verify(reply)
    assert reason(exc) == expected


def test_an_attached_payload_is_refused(ring: KeyRing) -> None:
    reply = signed(Certifier(ring), a_reply())
    head, _, signature = reply["proof"].split(".")
    payload = b64e(canonical(a_reply()))
    with pytest.raises(CertificationError, match=r"^malformed$"):
        Verifier(ring.jwks()).verify({**reply, "proof": f"{head}.{payload}.{signature}"})


def test_sign_ignores_a_proof_member_and_checks_its_arguments(ring: KeyRing) -> None:
    certifier = Certifier(ring)
    req_hash = request_hash(**a_request())
    reply = a_reply()
    assert reply["proof"] is None
    kwargs: dict[str, Any] = {"dataset": "d.s", "request_hash": req_hash, "issued_at": NOW}
    assert certifier.sign(reply, **kwargs) == certifier.sign(
        {k: v for k, v in reply.items() if k != "proof"}, **kwargs
    )
    with pytest.raises(ValueError):
        certifier.sign(reply, **{**kwargs, "issued_at": NOW.replace(tzinfo=None)})
    with pytest.raises(ValueError):
        certifier.sign(reply, **{**kwargs, "request_hash": req_hash.upper()})
    with pytest.raises(CertificationError, match=r"^malformed$"):
        certifier.sign({**reply, "status": 2**60}, **kwargs)
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert certifier.sign(reply, **{**kwargs, "issued_at": paris}) == certifier.sign(
        reply, **kwargs
    )
    assert certifier.sign(reply, **{**kwargs, "issued_at": NOW + timedelta(seconds=1)}) != (
        certifier.sign(reply, **kwargs)
    )


def test_sealed_bytes_are_the_canonical_reply_with_its_proof(ring: KeyRing) -> None:
    certifier, verifier = Certifier(ring), Verifier(ring.jwks())
    req_hash = request_hash(**a_request())
    kwargs: dict[str, Any] = {"dataset": "d.s", "request_hash": req_hash, "issued_at": NOW}
    for reply in (a_reply(), {"a": 1}, {"z": 1}, {}, {"a": [1], "proof": "x", "zz": "é"}):
        published = certifier.seal(reply, **kwargs)
        parsed = json.loads(published)
        assert published == rfc8785.dumps(parsed)
        assert parsed["proof"] == certifier.sign(reply, **kwargs)
        assert verifier.verify(parsed, request_hash=req_hash)["kid"] == ring.current_kid


def test_reply_digest_is_sha256_of_the_published_bytes() -> None:
    published = b'{"status":200}'
    assert reply_digest(published) == "sha256:" + hashlib.sha256(published).hexdigest()


# --- an independent verifier -------------------------------------------------------------------


def test_an_independent_implementation_verifies_a_reply(ring: KeyRing) -> None:
    """jwcrypto (a JOSE library) and raw cryptography + rfc8785, not this package's verify."""
    reply = signed(Certifier(ring), a_reply())
    published = json.dumps(reply, ensure_ascii=False, indent=1).encode()
    received = json.loads(published)
    proof = received.pop("proof")
    payload = rfc8785.dumps(received)
    expected_hash = hashlib.sha256(rfc8785.dumps(a_request())).hexdigest()
    public = ring.jwks()["keys"][0]

    token = jwcrypto_jws.JWS()
    token.deserialize(proof)
    token.verify(jwcrypto_jwk.JWK(**public), alg="EdDSA", detached_payload=payload)
    header = json.loads(token.objects["protected"])
    assert header["kid"] == public["kid"]
    assert header["request_hash"] == expected_hash

    encoded_header, _, encoded_signature = proof.split(".")
    key = Ed25519PublicKey.from_public_bytes(b64d(public["x"]))
    signing_input = encoded_header.encode() + b"." + b64e(payload).encode()
    key.verify(b64d(encoded_signature), signing_input)
    received["status"] = 201
    with pytest.raises(InvalidSignature):
        key.verify(
            b64d(encoded_signature),
            encoded_header.encode() + b"." + b64e(rfc8785.dumps(received)).encode(),
        )


def test_jwcrypto_signed_replies_verify_here() -> None:
    """The other way round: a detached JWS made by jwcrypto passes this package's verify."""
    req_hash = request_hash(**a_request())
    reply = a_reply()
    del reply["proof"]
    header = {
        "alg": "EdDSA",
        "kid": EXAMPLE_JWK["kid"],
        "iat": 1,
        "dataset": "x.y",
        "request_hash": req_hash,
    }
    token = jwcrypto_jws.JWS(rfc8785.dumps(reply))
    token.add_signature(jwcrypto_jwk.JWK(**EXAMPLE_JWK), alg="EdDSA", protected=json.dumps(header))
    token.detach_payload()
    proof = token.serialize(compact=True)
    jwks = KeyRing.from_jwks([EXAMPLE_JWK]).jwks()
    assert Verifier(jwks).verify({**reply, "proof": proof}, request_hash=req_hash) == header


def test_rfc8037_known_answer() -> None:
    """RFC 8037 A.4: the raw signature path reproduces the RFC's signature byte for byte."""
    key = key_from_jwk(EXAMPLE_JWK)
    assert key.secret is not None
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert b64e(ed25519_sign(key.secret, signing_input)) == (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    assert key_from_jwk({k: v for k, v in EXAMPLE_JWK.items() if k != "kid"}).kid == (
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"  # RFC 8037 A.3 thumbprint
    )


# --- canonicalisation --------------------------------------------------------------------------


def test_request_hash_is_sha256_of_the_canonical_request() -> None:
    expected = hashlib.sha256(rfc8785.dumps(EXAMPLE_REQUEST)).hexdigest()
    assert request_hash(**EXAMPLE_REQUEST) == expected
    assert request_hash(**a_request(version=None)) != request_hash(**a_request(version=4))


def test_rfc8785_key_order_example() -> None:
    """RFC 8785 section 3.2.3: keys sort by UTF-16 code units, not by code points."""
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = [k for k in json.loads(canonical(obj))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def _random_string(rng: random.Random) -> str:
    pools = [
        "abcXYZ_09",
        '"\\/\b\f\n\r\t\x00\x1f\x7f',
        "éÇüß€",
        "\ue000\uffef\ufb33\uffff",
        "\U0001f600\U00010000\U0010ffff",
        "\u2028\u2029",
    ]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 6)))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**53 - 1, -(2**53) + 1, rng.randint(-(10**6), 10**6)])
    if kind == 3:
        return rng.choice(
            [
                0.0,
                -0.0,
                1.0,
                1.5,
                -2.5,
                0.1 + 0.2,
                1e21,
                1e-7,
                -2.5e-5,
                1e-4,
                9.999e-5,
                1e16 + 2.0,
                9999999999999998.0,
                123456789.125,
                2**60 + 0.0,
                5e-324,
                1.7976931348623157e308,
                rng.uniform(-1e6, 1e6),
                rng.uniform(-1, 1) * 10 ** rng.randint(-8, 22),
            ]
        )
    if kind in (4, 5):
        return _random_string(rng)
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 7:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_canonical_fast_path_matches_rfc8785() -> None:
    rng = random.Random(8785)
    fast = 0
    for _ in range(3000):
        value = _random_value(rng)
        fast += _fast_path_is_exact(value)
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:
            with pytest.raises(CertificationError):
                canonical(value)
            continue
        assert canonical(value) == expected, value
    assert fast > 1000  # the fast path is exercised, not only the fallback


def test_floats_on_the_fast_path_print_as_ecmascript() -> None:
    rng = random.Random(262)
    values = [1.5, -2.5, 0.1 + 0.2, 1e-4, 123456.789, 9999999999999998.5 - 0.5 + 0.25]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-5, 17) for _ in range(20000)]
    for value in values:
        if _fast_path_is_exact(value):
            assert canonical(value) == rfc8785.dumps(value), value


@pytest.mark.parametrize(
    "value",
    [
        2**53,
        -(2**53),
        float("nan"),
        float("inf"),
        {1: "x"},
        "\ud800",
        {"\udfff": 1},
        b"x",
        {"a": object()},
    ],
)
def test_canonical_rejects_what_is_not_i_json(value: Any) -> None:
    with pytest.raises(CertificationError) as exc:
        canonical(value)
    assert str(exc.value) == "malformed"


@pytest.mark.parametrize("dataset", [None, "cnav.quotient_familial", 'a"b\\c\n', "é€\U0001f600"])
def test_the_header_is_canonical(dataset: str | None) -> None:
    header = _protected_header(_json_string("kid-1"), dataset, "a" * 64, NOW)
    assert header == rfc8785.dumps(json.loads(header))
    assert json.loads(header) == {
        "alg": "EdDSA",
        "dataset": dataset,
        "iat": 1741944413,
        "kid": "kid-1",
        "request_hash": "a" * 64,
    }


# --- keys, rotation ----------------------------------------------------------------------------


def test_after_rotation_old_replies_verify_until_their_key_is_retired(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = generate_in(keys)
    old_reply = signed(Certifier(load_dir(keys)), a_reply())
    second = generate_in(keys)
    ring = load_dir(keys)
    assert ring.current_kid == second
    assert [k["kid"] for k in ring.jwks()["keys"]] == [second, first]
    new_reply = signed(Certifier(ring), a_reply())
    assert Verifier(ring.jwks()).verify(old_reply)["kid"] == first
    assert Verifier(ring.jwks()).verify(new_reply)["kid"] == second

    with pytest.raises(CertificationError, match=r"^current-key$"):
        retire_in(keys, second)
    retire_in(keys, first)
    ring = load_dir(keys)
    assert [k["kid"] for k in ring.jwks()["keys"]] == [second]
    with pytest.raises(CertificationError, match=r"^unknown-kid$"):
        Verifier(ring.jwks()).verify(old_reply)
    assert Verifier(ring.jwks()).verify(new_reply)["kid"] == second
    assert not (keys / f"{first}.jwk").exists()
    assert "d" not in json.loads((keys / "retired" / f"{first}.jwk").read_text())


def test_several_kids_at_once(tmp_path: Path) -> None:
    """Replicas with keys of their own: one JWKS listing them all verifies every reply."""
    rings = []
    for name in ("a", "b", "c"):
        generate_in(tmp_path / name, kid=f"replica-{name}")
        rings.append(load_dir(tmp_path / name))
    jwks = {"keys": [key for ring in rings for key in ring.jwks()["keys"]]}
    verifier = Verifier(jwks)
    for ring in rings:
        assert verifier.verify(signed(Certifier(ring), a_reply()))["kid"] == ring.current_kid


def test_key_files_are_private(tmp_path: Path) -> None:
    kid = generate_in(tmp_path / "keys")
    assert (tmp_path / "keys" / f"{kid}.jwk").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700


def test_load_prefers_the_settings_dir_then_the_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = generate_in(tmp_path / "a", kid="from-settings")
    b = generate_in(tmp_path / "b", kid="from-env-dir")
    monkeypatch.setenv("PARTICULIER_SIGNING_KEYS_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("PARTICULIER_SIGNING_KEY", json.dumps(EXAMPLE_JWK))
    assert KeyRing.load(str(tmp_path / "a")).current_kid == a
    assert KeyRing.load().current_kid == b
    monkeypatch.delenv("PARTICULIER_SIGNING_KEYS_DIR")
    assert KeyRing.load().current_kid == EXAMPLE_JWK["kid"]
    several = {"keys": [{**EXAMPLE_JWK, "kid": "new"}, {**EXAMPLE_JWK, "kid": "old"}]}
    monkeypatch.setenv("PARTICULIER_SIGNING_KEY", json.dumps(several))
    assert KeyRing.load().kids == ["new", "old"]


def test_load_without_configuration_creates_a_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING):
        first = KeyRing.load()
    assert (tmp_path / ".local" / "keys" / f"{first.current_kid}.jwk").exists()
    private = json.loads((tmp_path / ".local" / "keys" / f"{first.current_kid}.jwk").read_text())
    assert "development key" in caplog.text
    assert private["d"] not in caplog.text and private["x"] not in caplog.text
    caplog.clear()
    assert KeyRing.load().current_kid == first.current_kid
    assert "development key" not in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps({**EXAMPLE_JWK, "x": "AAqYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        json.dumps({**EXAMPLE_JWK, "d": "AAAA"}),
        json.dumps({**EXAMPLE_JWK, "crv": "X25519"}),
        json.dumps({**EXAMPLE_JWK, "kid": "../../etc/passwd"}),
        json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        json.dumps([EXAMPLE_JWK]),
    ],
)
def test_bad_keys_are_refused_without_quoting_them(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PARTICULIER_SIGNING_KEY", value)
    with pytest.raises(CertificationError) as exc:
        KeyRing.load()
    assert str(exc.value) == "bad-key"
    shown = "".join(traceback.format_exception(exc.value))
    assert EXAMPLE_JWK["d"] not in shown and "nWGxne" not in shown


def test_no_key_material_in_reprs(ring: KeyRing) -> None:
    key = ring.current
    assert key.secret is not None
    assert key.secret.hex() not in repr(key) and str(key.secret) not in repr(key)
    assert "secret" not in repr(key) and repr(ring).startswith("KeyRing(current=")


def test_a_listed_public_only_key_verifies_but_cannot_sign(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    current = generate_in(keys)
    public = KeyRing.from_jwks([EXAMPLE_JWK]).jwks()["keys"][0]
    (keys / f"{public['kid']}.jwk").write_text(json.dumps(public))
    (keys / "keyring.json").write_text(
        json.dumps({"current": current, "keys": [current, public["kid"]]})
    )
    assert load_dir(keys).kids == [current, public["kid"]]
    (keys / "keyring.json").write_text(
        json.dumps({"current": public["kid"], "keys": [current, public["kid"]]})
    )
    with pytest.raises(CertificationError, match=r"^no-key$"):
        load_dir(keys)


def test_verifier_ignores_foreign_keys_and_refuses_broken_jwks() -> None:
    ours = KeyRing.from_jwks([EXAMPLE_JWK]).jwks()["keys"][0]
    rsa = {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"}
    assert Verifier({"keys": [rsa, ours]}).kids == [ours["kid"]]
    broken_sets: list[dict[str, Any]] = [
        {},
        {"keys": {}},
        {"keys": [ours, ours]},
        {"keys": [{**ours, "x": "AA"}]},
        {"keys": ["x"]},
    ]
    for broken in broken_sets:
        with pytest.raises(CertificationError, match=r"^bad-jwks$"):
            Verifier(broken)


# --- CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(keys_app, name="keys")
    app.command("verify")(verify_command)
    return app


def test_cli_generate_jwks_verify(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    result = runner.invoke(cli, ["keys", "generate", "--dir", str(keys)])
    assert result.exit_code == 0, result.output
    kid = result.output.strip()
    result = runner.invoke(
        cli, ["keys", "jwks", "--dir", str(keys), "--out", str(tmp_path / "jwks.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "jwks.json").read_text())["keys"][0]["kid"] == kid
    result = runner.invoke(cli, ["keys", "jwks"], env={"PARTICULIER_SIGNING_KEYS_DIR": str(keys)})
    assert json.loads(result.output)["keys"][0]["kid"] == kid
    assert '"d"' not in result.output

    reply = signed(Certifier(load_dir(keys)), a_reply())
    (tmp_path / "reply.json").write_text(json.dumps(reply, ensure_ascii=False, indent=2))
    (tmp_path / "request.json").write_text(json.dumps(a_request()))
    (tmp_path / "other.json").write_text(json.dumps(a_request(requester="someone-else")))
    base = ["verify", str(tmp_path / "reply.json"), "--jwks", str(tmp_path / "jwks.json")]

    result = runner.invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"valid: kid={kid}, dataset=cnav.quotient_familial, issued 2025-03-14T09:26:53Z"
    )
    result = runner.invoke(cli, [*base, "--request", str(tmp_path / "request.json")])
    assert result.exit_code == 0 and "request matches" in result.output
    result = runner.invoke(cli, [*base, "--request", str(tmp_path / "other.json")])
    assert result.exit_code == 1 and "request-mismatch" in result.output

    text = (tmp_path / "reply.json").read_text()
    (tmp_path / "reply.json").write_text(text.replace('"valeur": 200', '"valeur": 900'))
    result = runner.invoke(cli, base)
    assert result.exit_code == 1
    assert "invalid: bad-signature" in result.output
    (tmp_path / "reply.json").write_text("{not json")
    assert runner.invoke(cli, base).exit_code == 1
    result = runner.invoke(
        cli, ["verify", str(tmp_path / "missing.json"), "--jwks", str(tmp_path / "jwks.json")]
    )
    assert result.exit_code == 1


def test_cli_rotation(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    keys = str(tmp_path / "keys")
    first = runner.invoke(cli, ["keys", "generate", "--dir", keys]).output.strip()
    second = runner.invoke(cli, ["keys", "generate", "--dir", keys, "--kid", "k2"]).output.strip()
    assert second == "k2"
    listing = runner.invoke(cli, ["keys", "list", "--dir", keys]).output
    assert listing.splitlines() == [f"{second}\tcurrent", f"{first}\tlisted"]
    assert runner.invoke(cli, ["keys", "retire", second, "--dir", keys]).exit_code == 1
    assert runner.invoke(cli, ["keys", "retire", "nope", "--dir", keys]).exit_code == 1
    assert runner.invoke(cli, ["keys", "retire", first, "--dir", keys]).exit_code == 0
    listing = runner.invoke(cli, ["keys", "list", "--dir", keys]).output
    assert listing.splitlines() == [f"{second}\tcurrent", f"{first}\tretired"]


def test_every_command_has_help(cli: typer.Typer) -> None:
    runner = CliRunner()
    for args in (
        ["keys"],
        ["keys", "generate"],
        ["keys", "jwks"],
        ["keys", "retire"],
        ["keys", "list"],
        ["verify"],
    ):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, args


# --- the document ------------------------------------------------------------------------------


def test_the_documented_example_is_what_the_code_produces() -> None:
    example = build()
    assert Verifier(example["jwks"]).verify(
        json.loads(example["published"]), request_hash=example["request_hash"]
    )["iat"] == int(EXAMPLE_ISSUED_AT.timestamp())
    assert markdown() in DOCS.read_text(encoding="utf-8")
    assert EXAMPLE_JWK["d"] not in DOCS.read_text(encoding="utf-8")
