"""FranceConnect introspection against the FranceConnect simulator over real HTTP: signed and
encrypted answers, staging's test tokens, minted tokens, expiry, revocation, the cache, and
every answer that must not be trusted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


@dataclass
class Simulated:
    """The FranceConnect simulator's state, and the address it answers at."""

    state: FranceConnect
    base: str

    def introspector(self, *, signing: Any = None, decryption: Any = None) -> Introspector:
        """The broker's introspector, trusting the simulator's keys unless told others."""
        return Introspector(
            f"{self.base}/api/v2/token/introspect",
            client_id=DEFAULT_CLIENT_ID,
            client_secret="secret",
            signing_jwks=signing or self.state.jwks(),
            decryption_keys=[dict((decryption or BROKER_KEY).as_dict(private=True))],
        )


@pytest_asyncio.fixture
async def france_connect() -> AsyncIterator[Simulated]:
    state = FranceConnect(encryption_jwks=[_public(BROKER_KEY)])
    state.load(staging_tokens())
    runner = await serve(build_france_connect(state), "127.0.0.1", 0)
    yield Simulated(state, f"http://127.0.0.1:{runner.addresses[0][1]}")
    await runner.cleanup()


async def _refused(
    introspector: Introspector, token: str, reason: str, *, calls: int | None = None
) -> FranceConnectError:
    """Assert that ``introspector`` refuses ``token`` for ``reason``, having asked FranceConnect
    ``calls`` times in all (when given); close it and return the error."""
    try:
        with pytest.raises(FranceConnectError) as refused:
            await introspector.introspect(token)
    finally:
        await introspector.aclose()
    assert refused.value.reason == reason
    assert calls is None or introspector.calls == calls, introspector.calls
    return refused.value


async def test_a_staging_token_gives_its_identity_and_consent(france_connect: Simulated) -> None:
    introspector = france_connect.introspector()
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


async def test_a_minted_token_with_a_partial_birth_date(france_connect: Simulated) -> None:
    token = france_connect.state.mint(CLAIMS)
    introspector = france_connect.introspector()
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
    france_connect: Simulated,
) -> None:
    # times are whole seconds: at least 1 s of life
    token = france_connect.state.mint(CLAIMS, expires_in=2)
    introspector = france_connect.introspector()
    first = await introspector.introspect(token)
    again = await introspector.introspect(token)
    assert again is first and introspector.calls == 1
    await asyncio.sleep(2.1)
    await _refused(introspector, token, "inactive", calls=2)


@pytest.mark.parametrize("case", ["unknown", "revoked"])
async def test_unknown_and_revoked_tokens_are_inactive(
    france_connect: Simulated, case: str
) -> None:
    token = "no-such-token"
    if case == "revoked":
        token = france_connect.state.mint(CLAIMS)
        france_connect.state.tokens[token].revoked = True
    await _refused(france_connect.introspector(), token, "inactive")


@pytest.mark.parametrize("token", ["", "é" * 10, "x" * 5000, "line\nbreak"])
async def test_a_malformed_token_is_refused_without_asking(
    france_connect: Simulated, token: str
) -> None:
    await _refused(france_connect.introspector(), token, "malformed", calls=0)


@pytest.mark.parametrize("forgery", ["signed by another key", "encrypted for another key"])
async def test_an_answer_that_does_not_verify_is_never_trusted(
    france_connect: Simulated, forgery: str
) -> None:
    other_signer = ECKey.generate_key("P-256", private=True)
    other_signer.ensure_kid()
    introspector = (
        france_connect.introspector(signing={"keys": [_public(other_signer)]})
        if forgery == "signed by another key"
        else france_connect.introspector(decryption=RSAKey.generate_key(2048, private=True))
    )
    await _refused(introspector, france_connect.state.mint(CLAIMS), "untrusted")


async def test_france_connect_down_is_unreachable_and_the_error_names_no_token() -> None:
    state = FranceConnect(encryption_jwks=[_public(BROKER_KEY)])
    runner = await serve(web.Application(), "127.0.0.1", 0)
    port = runner.addresses[0][1]
    await runner.cleanup()
    introspector = Simulated(state, f"http://127.0.0.1:{port}").introspector()
    token = state.mint(CLAIMS)
    refused = await _refused(introspector, token, "unreachable")
    assert token not in str(refused) and token not in repr(refused)
