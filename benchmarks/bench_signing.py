"""Cost of certifying and verifying one reply, against the budget of the worker's hot path.

The budget: signing may take at most 10% of a path doing ~2,000 replies/s on one core, i.e.
50 µs per reply. Run: ``.venv/bin/python benchmarks/bench_signing.py [--number N]``.
Besides the public API it times the alternatives the implementation was chosen against
(rfc8785's pure-Python canonicalisation, OpenSSL's Ed25519 through ``cryptography``, and
joserfc's generic JWS path), so that the choice can be re-checked on other hardware.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import OKPKey

from broker.certification import Certifier, KeyRing, Verifier, canonical, request_hash
from broker.certification._example import EXAMPLE_REPLY
from broker.certification._jws import ed25519_sign
from broker.sdk.proof import ed25519_verify

BUDGET_US = 50.0

_PERSON = {"nom_naissance": "MARTIN", "nom_usage": None, "sexe": "M"}
REPLY: dict[str, Any] = {
    **EXAMPLE_REPLY,
    "data": {
        "allocataires": [
            {**_PERSON, "prenoms": "PIERRE ALEXIS FRANÇOIS", "date_naissance": "1978-06-27"},
            {
                "nom_naissance": "LEROUGE",
                "nom_usage": "MARTIN",
                "prenoms": "JUSTINE ÉLISE",
                "date_naissance": "1979-05-19",
                "sexe": "F",
            },
        ],
        "enfants": [
            {**_PERSON, "prenoms": "ALEXIS VINCENT", "date_naissance": "2006-04-20"},
            {**_PERSON, "prenoms": "FLEUR EDITH", "date_naissance": "2010-04-20", "sexe": "F"},
            {**_PERSON, "prenoms": "LÉON", "date_naissance": "2014-09-02"},
        ],
        "adresse": {
            "destinataire": "Monsieur MARTIN Pierre",
            "complement_information": "Bâtiment B",
            "complement_information_geographique": "Résidence Alouette",
            "numero_libelle_voie": "12 AVENUE DU GÉNÉRAL DE GAULLE",
            "lieu_dit": None,
            "code_postal_ville": "51000 CHÂLONS-EN-CHAMPAGNE",
            "pays": "FRANCE",
        },
        "quotient_familial": EXAMPLE_REPLY["data"]["quotient_familial"],
    },
    "meta": {
        **EXAMPLE_REPLY["meta"],
        "scopes": ["allocataires", "enfants", "adresse", "quotient_familial"],
    },
}
"""The specification's example reply with every group of the dataset unmasked: a reply of
the size the worker signs for a family."""


def per_call_us(fn: Callable[[], object], number: int) -> float:
    """Best of 7 runs of the mean time per call, in µs.

    The minimum, as timeit recommends: on a shared core, slower runs measure the neighbours.
    """
    runs = timeit.repeat(fn, number=number, repeat=7)
    return min(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=2000, help="calls per timing run")
    args = parser.parse_args()
    n = args.number

    jwk = OKPKey.generate_key("Ed25519", private=True)
    private = dict(jwk.as_dict(private=True), kid="bench")
    ring = KeyRing.from_jwks([private])
    certifier = Certifier(ring)
    verifier = Verifier(ring.jwks())
    req_hash = request_hash(
        dataset="cnav.quotient_familial",
        version=None,
        params={"nomNaissance": "MARTIN", "prenoms": ["PIERRE"], "sexeEtatCivil": "M"},
        recipient="13002526500013",
        message_id="0b7f6f3e-5d1a-4c53-9a44-2f1e8c6b9d10",
        requester="mairie-chalons",
    )
    now = datetime.now(UTC)
    kwargs: dict[str, Any] = {
        "dataset": "cnav.quotient_familial",
        "request_hash": req_hash,
        "issued_at": now,
    }
    proof = certifier.sign(REPLY, **kwargs)
    signed = {**REPLY, "proof": proof}
    published = certifier.seal(REPLY, **kwargs)
    payload = canonical(REPLY)
    assert payload == rfc8785.dumps(REPLY)
    assert verifier.verify(json.loads(published), request_hash=req_hash)["kid"] == "bench"

    assert isinstance(jwk.private_key, Ed25519PrivateKey)
    openssl_key = jwk.private_key
    openssl_pub = openssl_key.public_key()
    secret = ring.current.secret
    assert secret is not None
    raw_sig = ed25519_sign(secret, payload)
    header = {
        "alg": "EdDSA",
        "kid": "bench",
        "iat": int(now.timestamp()),
        "dataset": "cnav.quotient_familial",
        "request_hash": req_hash,
    }

    registry = jws.JWSRegistry(algorithms=["EdDSA"], strict_check_header=False)

    def joserfc_sign() -> str:
        token = jws.serialize_compact(header, canonical(REPLY), jwk, registry=registry)
        head, _, sig = token.split(".")
        return f"{head}..{sig}"

    rows = [
        ("sign (Certifier.sign, total)", per_call_us(lambda: certifier.sign(REPLY, **kwargs), n)),
        (
            "seal (sign + serialise for publishing)",
            per_call_us(lambda: certifier.seal(REPLY, **kwargs), n),
        ),
        (
            "verify (Verifier.verify, total)",
            per_call_us(lambda: verifier.verify(signed, request_hash=req_hash), n),
        ),
        ("  canonical(), fast path", per_call_us(lambda: canonical(REPLY), n)),
        ("  rfc8785.dumps (reference, pure Python)", per_call_us(lambda: rfc8785.dumps(REPLY), n)),
        (
            "  json.dumps for publishing (what seal saves)",
            per_call_us(lambda: json.dumps(signed, ensure_ascii=False).encode(), n),
        ),
        ("  Ed25519 sign, libsodium (used)", per_call_us(lambda: ed25519_sign(secret, payload), n)),
        (
            "  Ed25519 sign, OpenSSL via cryptography",
            per_call_us(lambda: openssl_key.sign(payload), n),
        ),
        (
            "  Ed25519 verify, libsodium (used)",
            per_call_us(lambda: ed25519_verify(ring.current.public, payload, raw_sig), n),
        ),
        (
            "  Ed25519 verify, OpenSSL via cryptography",
            per_call_us(lambda: openssl_pub.verify(raw_sig, payload), n),
        ),
        ("  joserfc serialize_compact + detach (not used)", per_call_us(joserfc_sign, n)),
    ]
    print(f"reply: {len(payload)} bytes canonical, {len(published)} bytes published")
    width = max(len(name) for name, _ in rows)
    for name, us in rows:
        print(f"{name:<{width}}  {us:8.1f} µs")
    sign_us, seal_us, dumps_us = rows[0][1], rows[1][1], rows[5][1]
    print(f"budget: {BUDGET_US:.0f} µs per reply (10% of a core at 2,000 replies/s)")
    print(f"added cost, worker calling sign(): {sign_us:.1f} µs = {sign_us / 5:.1f}% of a core")
    net = seal_us - dumps_us
    print(
        f"added cost, worker calling seal() instead of serialising: {net:.1f} µs = "
        f"{net / 5:.1f}% of a core"
    )


if __name__ == "__main__":
    main()
