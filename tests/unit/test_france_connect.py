"""FranceConnect introspection against the FranceConnect simulator over real HTTP: signed and
encrypted answers, staging's test tokens, minted tokens, expiry, revocation, the cache, and
every answer that must not be trusted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from joserfc.jwk import ECKey, RSAKey

from broker.france_connect import FranceConnectError, Introspector
from broker.simulation import serve
from broker.simulation.france_connect import (
    DEFAULT_CLIENT_ID,
    FranceConnect,
    build_france_connect,
    staging_tokens,
)

BROKER_KEY = RSAKey.generate_key(2048, private=True)
CLAIMS = {
    "family_name": "DUPONT",
    "given_name": "Marie Anne",
    "birthdate": "1980",
    "gender": "female",
    "birthplace": "",
    "birthcountry": "99134",
    "scope": "openid identite_pivot cnaf_quotient_familial",
}


def _public(key: Any) -> dict[str, Any]:
    return dict(key.as_dict(private=False))


@pytest_asyncio.fixture
async def france_connect() -> AsyncIterator[tuple[FranceConnect, str]]:
    state = FranceConnect(encryption_jwks=[_public(BROKER_KEY)])
    state.load(staging_tokens())
    runner = await serve(build_france_connect(state), "127.0.0.1", 0)
    yield state, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def _introspector(
    state: FranceConnect, base: str, *, signing: Any = None, decryption: Any = None
) -> Introspector:
    return Introspector(
        f"{base}/api/v2/token/introspect",
        client_id=DEFAULT_CLIENT_ID,
        client_secret="secret",
        signing_jwks=signing or state.jwks(),
        decryption_keys=[dict((decryption or BROKER_KEY).as_dict(private=True))],
    )


async def test_a_staging_token_gives_its_identity_and_consent(
    france_connect: tuple[FranceConnect, str],
) -> None:
    state, base = france_connect
    introspector = _introspector(state, base)
    found = await introspector.introspect("cnaf_qfv2")
    await introspector.aclose()
    assert found.client == DEFAULT_CLIENT_ID
    assert {"cnaf_quotient_familial", "cnaf_enfants"} <= found.scopes
    assert found.civility() == {
        "nomNaissance": "CNAF",
        "prenoms": ["Georges"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 2002,
        "moisDateNaissance": 1,
        "jourDateNaissance": 1,
        "codeCogInseeCommuneNaissance": "75002",
        "codeCogInseePaysNaissance": "99100",
    }


async def test_a_minted_token_with_a_partial_birth_date(
    france_connect: tuple[FranceConnect, str],
) -> None:
    state, base = france_connect
    token = state.mint(CLAIMS)
    introspector = _introspector(state, base)
    found = await introspector.introspect(token)
    await introspector.aclose()
    assert found.civility() == {
        "nomNaissance": "DUPONT",
        "prenoms": ["Marie", "Anne"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 1980,
        "codeCogInseePaysNaissance": "99134",
    }


async def test_one_sign_in_costs_one_introspection_until_the_token_expires(
    france_connect: tuple[FranceConnect, str],
) -> None:
    state, base = france_connect
    token = state.mint(CLAIMS, expires_in=2)  # times are whole seconds: at least 1 s of life
    introspector = _introspector(state, base)
    first = await introspector.introspect(token)
    again = await introspector.introspect(token)
    assert again is first and introspector.calls == 1
    await asyncio.sleep(2.1)
    with pytest.raises(FranceConnectError) as expired:
        await introspector.introspect(token)
    await introspector.aclose()
    assert expired.value.reason == "inactive" and introspector.calls == 2


@pytest.mark.parametrize("case", ["unknown", "revoked"])
async def test_unknown_and_revoked_tokens_are_inactive(
    france_connect: tuple[FranceConnect, str], case: str
) -> None:
    state, base = france_connect
    token = "no-such-token"
    if case == "revoked":
        token = state.mint(CLAIMS)
        state.tokens[token].revoked = True
    introspector = _introspector(state, base)
    with pytest.raises(FranceConnectError) as refused:
        await introspector.introspect(token)
    await introspector.aclose()
    assert refused.value.reason == "inactive"


@pytest.mark.parametrize("token", ["", "é" * 10, "x" * 5000, "line\nbreak"])
async def test_a_malformed_token_is_refused_without_asking(
    france_connect: tuple[FranceConnect, str], token: str
) -> None:
    state, base = france_connect
    introspector = _introspector(state, base)
    with pytest.raises(FranceConnectError) as refused:
        await introspector.introspect(token)
    await introspector.aclose()
    assert refused.value.reason == "malformed" and introspector.calls == 0


@pytest.mark.parametrize("forgery", ["signed by another key", "encrypted for another key"])
async def test_an_answer_that_does_not_verify_is_never_trusted(
    france_connect: tuple[FranceConnect, str], forgery: str
) -> None:
    state, base = france_connect
    other_signer = ECKey.generate_key("P-256", private=True)
    other_signer.ensure_kid()
    introspector = (
        _introspector(state, base, signing={"keys": [_public(other_signer)]})
        if forgery == "signed by another key"
        else _introspector(state, base, decryption=RSAKey.generate_key(2048, private=True))
    )
    with pytest.raises(FranceConnectError) as refused:
        await introspector.introspect(state.mint(CLAIMS))
    await introspector.aclose()
    assert refused.value.reason == "untrusted"


async def test_france_connect_down_is_unreachable_and_the_error_names_no_token() -> None:
    state = FranceConnect(encryption_jwks=[_public(BROKER_KEY)])
    runner = await serve(web.Application(), "127.0.0.1", 0)
    port = runner.addresses[0][1]
    await runner.cleanup()
    introspector = _introspector(state, f"http://127.0.0.1:{port}")
    token = state.mint(CLAIMS)
    with pytest.raises(FranceConnectError) as refused:
        await introspector.introspect(token)
    await introspector.aclose()
    assert refused.value.reason == "unreachable"
    assert token not in str(refused.value) and token not in repr(refused.value)
