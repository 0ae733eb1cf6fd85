"""FranceConnect mode end to end: the SDK sends the citizen's token instead of the identity,
the worker introspects it at the FranceConnect simulator (signed and encrypted answers, over
HTTP), and answers for the identity and the consent the token carries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import httpx
import pytest

from broker.sdk import Client
from broker.simulation.france_connect import mint_token

from .conftest import DATASET, POPULATION, SIRET, person_on_file

EVERY_SCOPE = "openid identite_pivot cnaf_quotient_familial cnaf_allocataires cnaf_enfants"


def citizen_claims(start: int, **extra: Any) -> dict[str, Any]:
    """FranceConnect's claims for a person the CNAV simulator knows."""
    person = person_on_file(start)
    return {
        "family_name": person.nom_naissance,
        "given_name": " ".join(person.prenoms),
        "birthdate": person.date_naissance.isoformat(),
        "gender": "female" if person.sexe == "F" else "male",
        "birthplace": person.params()["codeCogInseeCommuneNaissance"],
        "birthcountry": "99100",
        "scope": EVERY_SCOPE,
        **extra,
    }


async def _token(simulator: Any, claims: dict[str, Any]) -> str:
    return await mint_token(f"{simulator.url}/france_connect", claims)


async def test_a_token_stands_for_the_identity_and_its_consent_masks_the_data(
    client: Client, simulator: Any
) -> None:
    token = await _token(simulator, citizen_claims(3000))
    reply = await client.request(
        DATASET, {}, recipient=SIRET, france_connect_token=token, timeout=15
    )
    assert reply.status == 200, reply.body.errors
    assert reply.data is not None
    assert set(reply.data) == {"quotient_familial", "allocataires", "enfants"}  # no cnaf_adresse
    assert set(reply.body.meta.scopes or []) == {
        "cnaf_quotient_familial",
        "cnaf_allocataires",
        "cnaf_enfants",
    }
    narrow = await _token(simulator, citizen_claims(3000, scope="openid cnaf_quotient_familial"))
    masked = await client.request(
        DATASET, {}, recipient=SIRET, france_connect_token=narrow, timeout=15
    )
    assert masked.status == 200 and masked.data is not None
    assert set(masked.data) == {"quotient_familial"}


async def _token_case(simulator: Any, case: str) -> tuple[str, dict[str, Any], str | None]:
    """The dataset, params and token of a token the broker cannot use."""
    dataset, params = DATASET, {}
    if case == "unknown token":
        token = "never-issued"
    elif case == "revoked token":
        token = await _token(simulator, citizen_claims(3100))
        async with httpx.AsyncClient() as http:
            revoked = await http.post(
                f"{simulator.url}/france_connect/_admin/revoke", json={"token": token}
            )
        assert revoked.json() == {"revoked": True}
    elif case == "expired token":
        token = await _token(simulator, {**citizen_claims(3100), "expires_in": 1})
        await asyncio.sleep(2.1)
    elif case == "malformed token":
        token = "é" * 8
    elif case == "no consent to this dataset":
        claims = citizen_claims(3100, scope="openid dsnj_statut_service_national")
        token = await _token(simulator, claims)
    elif case == "token of another agency's service":
        token = await _token(simulator, citizen_claims(3100, aud="another-agencys-service"))
    else:
        token = await _token(simulator, citizen_claims(3100))
        dataset, params = "dgfip.situation_fiscale", {}
    return dataset, params, token


async def test_the_token_is_never_journaled(client: Client, simulator: Any, services: Any) -> None:
    token = await _token(simulator, citizen_claims(3200))
    reply = await client.request(
        DATASET, {}, recipient=SIRET, france_connect_token=token, timeout=15
    )
    assert reply.status == 200
    conn = await asyncpg.connect(services.admin_url)
    try:
        rows = await conn.fetch(
            "SELECT j::text AS row, r.reply FROM journal j "
            "JOIN replies r USING (requester, message_id) WHERE j.message_id = $1",
            reply.message_id,
        )
    finally:
        await conn.close()
    assert rows, "the disclosure has its journal row"
    for row in rows:
        assert token not in row["row"] and token.encode() not in bytes(row["reply"])


async def _set_forgery(simulator: Any, forgery: str | None) -> None:
    async with httpx.AsyncClient() as http:
        answered = await http.put(
            f"{simulator.url}/france_connect/_admin/forgery", json={"forgery": forgery}
        )
    answered.raise_for_status()


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("slow, within the deadline", 200, None),
        ("down", 504, "51001"),
        ("signed by another key", 502, "51999"),
        ("encrypted for another key", 502, "51999"),
    ],
)
async def test_france_connect_itself_failing(
    client: Client, simulator: Any, fault: str, status: int, code: str | None
) -> None:
    """FranceConnect slow, down, or answering what the broker must not trust: the request is
    answered with its code (``retry_in`` where retrying helps), and nothing is disclosed."""
    token = await _token(simulator, citizen_claims(3300 + 10 * len(fault)))
    faults: Any = simulator.faults("france_connect")
    try:
        if fault.startswith("slow"):
            faults.latency_ms = 1500
        elif fault == "down":
            faults.down = True
        else:
            await _set_forgery(
                simulator, "signature" if fault.startswith("signed") else "encryption"
            )
        reply = await client.request(
            DATASET, {}, recipient=SIRET, france_connect_token=token, timeout=15
        )
    finally:
        simulator.reset()
        await _set_forgery(simulator, None)
    assert reply.status == status, reply.body.errors
    assert [e.code for e in reply.body.errors] == ([code] if code else [])
    assert (reply.data is not None) is (status == 200)
    if fault == "down":
        assert reply.body.retry_in is not None


ANTS = "ants.extrait_immatriculation_vehicule"
ANTS_SCOPES = [
    f"ants_extrait_immatriculation_vehicule_{group}"
    for group in (
        "identite_particulier",
        "adresse_particulier",
        "statut_rattachement",
        "donnees_immatriculation_vehicule",
        "caracteristiques_techniques_vehicule",
    )
]


def _driver(start: int) -> tuple[dict[str, Any], str]:
    """FranceConnect's claims for a synthetic person the SIV simulator knows, and their plate."""
    from workers.ants.simulator import plate_of

    person = person_on_file(start)
    claims = citizen_claims(person.index, scope=" ".join(["openid", *ANTS_SCOPES]))
    return claims, plate_of(person)


async def test_ants_extract_for_the_signed_in_citizen(client: Client, simulator: Any) -> None:
    claims, plate = _driver(5000)
    token = await _token(simulator, claims)
    reply = await client.request(
        ANTS, {"immatriculation": plate.lower()}, recipient=SIRET, france_connect_token=token
    )
    assert reply.status == 200, reply.body.errors
    assert reply.data is not None
    assert reply.data["donnees_immatriculation_vehicule"]["numero_immatriculation"] == plate
    assert reply.data["identite_particulier"]["nom"] == claims["family_name"]
    matching = reply.body.meta.identity_matching
    assert matching is not None and matching.overall_match and matching.birth_date == 1.0

    narrow = await _token(
        simulator,
        {**claims, "scope": "openid ants_extrait_immatriculation_vehicule_statut_rattachement"},
    )
    masked = await client.request(
        ANTS, {"immatriculation": plate}, recipient=SIRET, france_connect_token=narrow
    )
    assert masked.status == 200 and masked.data is not None
    assert set(masked.data) == {"statut_rattachement"}


async def _ants_case(simulator: Any, case: str) -> tuple[str, dict[str, Any], str | None]:
    """The dataset, params and token of an ANTS extract the broker must refuse."""
    claims, plate = _driver(5200)
    other, _ = _driver(5400)
    params: dict[str, Any] = {"immatriculation": plate}
    mine = case != "ANTS, another citizen's token"
    token: str | None = await _token(simulator, claims if mine else other)
    if case == "ANTS, unknown registration":
        params = {"immatriculation": "XX-999-XX"}
    elif case == "ANTS, no registration number":
        params = {}
    elif case == "ANTS, identity mode":
        params, token = {**POPULATION.person(5200).params(), **params}, None
    return ANTS, params, token


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown token", 401, "50002"),
        ("revoked token", 401, "50002"),
        ("expired token", 401, "50002"),
        ("malformed token", 401, "50001"),
        ("no consent to this dataset", 401, "50003"),
        ("token of another agency's service", 403, "00100"),
        ("dataset without FranceConnect mode", 422, "00806"),
        ("ANTS, another citizen's token", 404, "42005"),
        ("ANTS, unknown registration", 404, "42003"),
        ("ANTS, no registration number", 422, "00430"),
        ("ANTS, identity mode", 422, "00807"),
    ],
)
async def test_requests_the_broker_cannot_serve_are_answered_with_their_code(
    client: Client, simulator: Any, case: str, status: int, code: str
) -> None:
    """Tokens it cannot use, and ANTS extracts it must refuse: a coded answer, no data."""
    make = _ants_case if case.startswith("ANTS") else _token_case
    dataset, params, token = await make(simulator, case)
    reply = await client.request(
        dataset, params, recipient=SIRET, france_connect_token=token, timeout=15
    )
    assert (reply.status, [e.code for e in reply.body.errors]) == (status, [code])
    assert reply.data is None


async def test_the_token_is_never_logged(
    client: Client, simulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever becomes of a token (served, refused, FranceConnect down), no log line holds
    it: the broker's own loggers at DEBUG, the libraries at the INFO the CLI runs them at (it
    pins the AMQP client's frame dumps, which carry whole messages, to WARNING)."""
    served = await _token(simulator, citizen_claims(3600))
    down = await _token(simulator, citizen_claims(3700))
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="particulier")
    for token in (served, "never-issued-" + served[:8], "é" * 8):
        await client.request(DATASET, {}, recipient=SIRET, france_connect_token=token)
    simulator.faults("france_connect").down = True
    try:
        await client.request(DATASET, {}, recipient=SIRET, france_connect_token=down)
    finally:
        simulator.reset()
    assert caplog.records, "the worker logged its requests"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for token in (served, down):
            assert token not in text, record.name
