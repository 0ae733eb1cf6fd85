"""The worked example of ``docs/certification.md``, recomputed from the code.

``python -m broker.certification._example`` prints the example section; a unit test checks
that the document still holds it verbatim, so the document cannot drift from the code.

The key is the Ed25519 test key of RFC 8037 appendix A.1: published in the RFC, so it proves
nothing and must never sign a real reply. Ed25519 is deterministic, so the proof is fixed too.
The identity is the fictitious one of API Particulier's staging cases.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..sdk.proof import b64url, b64url_decode, canonical, reply_digest, request_hash
from ._jws import Certifier
from ._keys import KeyRing

EXAMPLE_JWK: dict[str, str] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "rfc8037-example",
}

EXAMPLE_REQUEST: dict[str, Any] = {
    "dataset": "cnav.quotient_familial",
    "version": None,
    "params": {
        "nomNaissance": "MARTIN",
        "prenoms": ["PIERRE"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 1978,
        "moisDateNaissance": 6,
        "jourDateNaissance": 27,
        "codeCogInseeCommuneNaissance": "51108",
        "codeCogInseePaysNaissance": "99100",
    },
    "recipient": "13002526500013",
    "message_id": "0b7f6f3e-5d1a-4c53-9a44-2f1e8c6b9d10",
    "requester": "mairie-chalons",
}

EXAMPLE_ISSUED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)

EXAMPLE_REPLY: dict[str, Any] = {
    "status": 200,
    "data": {
        "allocataires": [
            {
                "nom_naissance": "MARTIN",
                "nom_usage": None,
                "prenoms": "PIERRE ALEXIS FRANÇOIS",
                "date_naissance": "1978-06-27",
                "sexe": "M",
            }
        ],
        "quotient_familial": {
            "fournisseur": "MSA",
            "valeur": 200,
            "annee": 2024,
            "mois": 9,
            "annee_calcul": 2024,
            "mois_calcul": 12,
        },
    },
    "errors": [],
    "meta": {
        "request_id": "0b7f6f3e-5d1a-4c53-9a44-2f1e8c6b9d10",
        "dataset": "cnav.quotient_familial",
        "version": None,
        "provider": "CNAV",
        "issued_at": "2025-03-14T09:26:53Z",
        "scopes": ["allocataires", "quotient_familial"],
    },
}


def build() -> dict[str, Any]:
    """Every intermediate value of the procedure, for the document and the tests."""
    ring = KeyRing.from_jwks([EXAMPLE_JWK])
    certifier = Certifier(ring)
    req_hash = request_hash(**EXAMPLE_REQUEST)
    payload = canonical(EXAMPLE_REPLY)
    proof = certifier.sign(
        EXAMPLE_REPLY,
        dataset=EXAMPLE_REQUEST["dataset"],
        request_hash=req_hash,
        issued_at=EXAMPLE_ISSUED_AT,
    )
    encoded_header = proof.split(".")[0]
    published = certifier.seal(
        EXAMPLE_REPLY,
        dataset=EXAMPLE_REQUEST["dataset"],
        request_hash=req_hash,
        issued_at=EXAMPLE_ISSUED_AT,
    )
    return {
        "jwks": ring.jwks(),
        "request": EXAMPLE_REQUEST,
        "request_canonical": canonical(EXAMPLE_REQUEST).decode("utf-8"),
        "request_hash": req_hash,
        "reply": EXAMPLE_REPLY,
        "payload": payload.decode("utf-8"),
        "payload_b64": b64url(payload).decode("ascii"),
        "header": b64url_decode(encoded_header).decode("utf-8"),
        "encoded_header": encoded_header,
        "proof": proof,
        "published": published.decode("utf-8"),
        "reply_digest": reply_digest(published),
    }


def _block(language: str, text: str) -> str:
    return f"```{language}\n{text}\n```\n"


def markdown() -> str:
    """The example section of ``docs/certification.md``."""
    ex = build()
    pretty = json.dumps
    return "\n".join(
        [
            "Public key (JWKS as a worker serves it; the private half is RFC 8037's test key):\n",
            _block("json", pretty(ex["jwks"], indent=2, ensure_ascii=False)),
            "The request, as the worker saw it (`requester` is the AMQP `user_id`):\n",
            _block("json", pretty(ex["request"], indent=2, ensure_ascii=False)),
            "Its canonical form (RFC 8785: sorted keys, no whitespace, UTF-8):\n",
            _block("text", ex["request_canonical"]),
            "`request_hash` = lowercase hex SHA-256 of those bytes:\n",
            _block("text", ex["request_hash"]),
            "The reply without `proof`:\n",
            _block("json", pretty(ex["reply"], indent=2, ensure_ascii=False)),
            "Its canonical form, the JWS payload (UTF-8; `Ç` is the two bytes `C3 87`):\n",
            _block("text", ex["payload"]),
            "BASE64URL(payload):\n",
            _block("text", ex["payload_b64"]),
            "Protected header, and BASE64URL of its UTF-8 bytes:\n",
            _block("text", ex["header"] + "\n" + ex["encoded_header"]),
            "Signing input = `BASE64URL(header) || '.' || BASE64URL(payload)`; the proof "
            "(the payload part is left empty):\n",
            _block("text", ex["proof"]),
            "The reply as published (here in canonical form, as `Certifier.seal` writes it):\n",
            _block("json", ex["published"]),
            "Its journal digest, `reply_digest`:\n",
            _block("text", ex["reply_digest"]),
        ]
    )


if __name__ == "__main__":
    print(markdown(), end="")
