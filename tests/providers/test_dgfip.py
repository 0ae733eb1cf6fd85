"""DGFIP at provider level: ``dgfip.situation_fiscale`` through the simulator over real HTTP.

API Particulier has no staging case for it any more: the project's cases in
``tests/conformance/dgfip/`` play that part. Also params validation (13-digit tax number,
13- or 14-character notice reference), scope masking, provider errors and the synthetic
population.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from broker.errors import ProblemError
from broker.kit import Upstream, validate_params
from broker.simulation import Case, Person, Population, load_cases
from workers.dgfip import PROVIDER
from workers.dgfip.simulator import reference_avis_of
from workers.dgfip.situation_fiscale import DATASET

from .conftest import RunningProvider, assert_scopes_partition, outcome_matches

ERRORS = PROVIDER.errors
CASES_DIR = Path(__file__).resolve().parents[1] / "conformance" / "dgfip"
FOLDER = CASES_DIR / "api_particulier_v3_dgfip_situation_fiscale_with_numero_fiscal"
VALID = {"numeroFiscal": "1456789012345", "referenceAvis": "2423A56789012"}


def _read(path: Path) -> Case:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Case(
        path=path,
        version=3,
        endpoint="dgfip_situation_fiscale",
        pivot="numero_fiscal",
        params=dict(doc["params"]),
        status=int(doc["status"]),
        payload=json.loads(doc["payload"]),
    )


def _project_cases() -> list[Case]:
    """The folder's cases, read directly while the broker's loader skips its name."""
    return load_cases([CASES_DIR]) or [_read(p) for p in sorted(FOLDER.glob("*.yaml"))]


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _params(person: Person) -> dict[str, str]:
    return {"numeroFiscal": person.numero_fiscal, "referenceAvis": reference_avis_of(person)}


@pytest.fixture(scope="module")
async def dgfip(serve_provider: Any) -> AsyncIterator[RunningProvider]:
    running: RunningProvider = await serve_provider("dgfip", cases=_project_cases())
    yield running


def test_the_broker_loads_the_project_cases() -> None:
    loaded = [c for c in load_cases([CASES_DIR]) if c.is_provider("dgfip")]
    assert {c.dataset_name("dgfip") for c in loaded} == {"situation_fiscale"}
    assert {c.pivot for c in loaded} == {"numero_fiscal"}
    assert len(loaded) >= 8


def test_the_project_cases_cover_the_required_kinds() -> None:
    cases = _project_cases()
    assert len(cases) >= 8
    found = [c for c in cases if c.status == 200]
    assert any(c.data["declarant2"] is None for c in found)
    assert any(c.data["declarant2"] is not None for c in found)
    assert any(c.data["nombre_personnes_a_charge"] > 0 for c in found)
    assert any(len(c.params["referenceAvis"]) == 14 for c in found)
    codes = {code for c in cases for code in c.error_codes}
    assert {"27003", "00370", "27001", "27002"} <= codes


async def test_every_project_case_passes(dgfip: RunningProvider) -> None:
    cases = dgfip.cases(DATASET)
    assert len(cases) >= 8
    failures = []
    for case in cases:
        got = await dgfip.ask(DATASET, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, got.status, got.codes))
        elif case.status != 200:
            assert got.errors == case.payload["errors"], case.path.name
    assert not failures


async def test_example_params_answer_200(dgfip: RunningProvider) -> None:
    got = await dgfip.ask(DATASET, DATASET.example_params)
    assert got.status == 200


@pytest.mark.parametrize(
    ("change", "code", "parameter"),
    [
        ({"numeroFiscal": None}, "00370", "numeroFiscal"),
        ({"numeroFiscal": "145678901234"}, "00370", "numeroFiscal"),
        ({"numeroFiscal": "14567890123456"}, "00370", "numeroFiscal"),
        ({"numeroFiscal": "145678901234A"}, "00370", "numeroFiscal"),
        ({"numeroFiscal": ["1456789012345"]}, "00370", "numeroFiscal"),
        ({"referenceAvis": None}, "00371", "referenceAvis"),
        ({"referenceAvis": "2423A5678901"}, "00371", "referenceAvis"),
        ({"referenceAvis": "2423A5678901234"}, "00371", "referenceAvis"),
        ({"referenceAvis": "2423-56789012"}, "00371", "referenceAvis"),
    ],
)
def test_params_validation(change: dict[str, Any], code: str, parameter: str) -> None:
    raw = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASET.params, raw)
    assert (caught.value.status, caught.value.spec.code) == (422, code)
    assert caught.value.error()["source"] == {"parameter": parameter}
    assert caught.value.error()["meta"] == {}


def test_valid_params() -> None:
    spaced = {"numeroFiscal": "14 56 789 012 345", "referenceAvis": "24 23 a56 789 012", "x": 1}
    assert validate_params(DATASET.params, spaced).model_dump() == VALID
    longer = validate_params(DATASET.params, {**VALID, "referenceAvis": "2423D12345678X"})
    assert longer.model_dump()["referenceAvis"] == "2423D12345678X"
    leading_zero = validate_params(DATASET.params, {**VALID, "numeroFiscal": "0123456789012"})
    assert leading_zero.model_dump()["numeroFiscal"] == "0123456789012"


def test_scopes() -> None:
    couple = next(
        c.data for c in _project_cases() if c.status == 200 and c.data["declarant2"] is not None
    )
    assert_scopes_partition(DATASET, couple)
    assert DATASET.mask(couple, frozenset({"dgfip_revenu_fiscal_reference"})) == {
        "revenu_fiscal_reference": couple["revenu_fiscal_reference"]
    }
    assert DATASET.mask(couple, frozenset({"dgfip_declarant2_prenoms"})) == {
        "declarant2": {"prenoms": couple["declarant2"]["prenoms"]}
    }
    assert DATASET.mask(couple, frozenset({"dgfip_adresse_fiscale_taxation"})) == {
        "foyer_fiscal": {"adresse": couple["foyer_fiscal"]["adresse"]}
    }
    single = next(
        c.data for c in _project_cases() if c.status == 200 and c.data["declarant2"] is None
    )
    assert DATASET.mask(single, frozenset({"dgfip_declarant2_nom"})) == {"declarant2": None}


async def test_synthetic_population(dgfip: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    got = await dgfip.ask(DATASET, _params(person))
    assert got.status == 200
    DATASET.data.model_validate(got.data)
    assert got.data["declarant1"]["nom_naissance"] == person.nom_naissance
    assert got.data["annee_revenus"] == got.data["annee_impots"] - 1
    assert (await dgfip.ask(DATASET, _params(person))).data == got.data
    wrong_notice = {**_params(person), "referenceAvis": "2400000000000"}
    missing = _person(population, found=False)
    for params in (wrong_notice, _params(missing), {**VALID, "numeroFiscal": "3900000000000"}):
        got = await dgfip.ask(DATASET, params)
        assert (got.status, got.codes) == (404, ["27003"])
        assert got.errors[0]["meta"] == {"provider": "DGFIP"}


async def test_households_vary(dgfip: RunningProvider, population: Population) -> None:
    kinds = set()
    for person in list(population)[:60]:
        if person.found:
            data = (await dgfip.ask(DATASET, _params(person))).data
            kinds.add((data["declarant2"] is None, data["nombre_personnes_a_charge"] > 0))
            parts = 1.0 if data["declarant2"] is None else 2.0
            assert data["nombre_parts"] >= parts
    assert {(True, False), (False, False), (False, True)} <= kinds


async def test_the_simulator_speaks_its_own_dialect(dgfip: RunningProvider) -> None:
    async with httpx.AsyncClient(base_url=f"{dgfip.base_url}/dgfip/") as client:
        answer = await client.post(
            "impotparticulier/v1/situations-ir/recherche",
            json={"spi": VALID["numeroFiscal"], "referenceAvis": VALID["referenceAvis"]},
        )
        unknown = await client.post(
            "impotparticulier/v1/situations-ir/recherche",
            json={"spi": "1999999999990", "referenceAvis": "2423A56789012"},
        )
    assert {"rfr", "dec1", "nbPart"} <= set(answer.json()["situationIr"])
    assert (unknown.status_code, unknown.json()["code"]) == (404, "AVIS_INCONNU")


async def test_provider_down(dgfip: RunningProvider) -> None:
    await dgfip.faults(down=True)
    try:
        got = await dgfip.ask(DATASET, VALID)
    finally:
        await dgfip.faults(reset=True)
    assert (got.status, got.codes) == (504, ["27001"])


async def test_timeout(dgfip: RunningProvider) -> None:
    await dgfip.faults(timeout_rate=1.0, hang_s=3.0)
    started = time.monotonic()
    try:
        got = await dgfip.ask(DATASET, VALID, budget=1.0)
    finally:
        await dgfip.faults(reset=True)
    assert (got.status, got.codes) == (504, ["27002"])
    assert time.monotonic() - started < 2.5


async def _fetch_with(answer: httpx.Response) -> ProblemError:
    transport = httpx.MockTransport(lambda _request: answer)
    upstream = Upstream("dgfip", "http://dgfip.invalid/", ERRORS, transport=transport)
    params = validate_params(DATASET.params, VALID)
    try:
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(None), params)
    finally:
        await upstream.aclose()
    return caught.value


@pytest.mark.parametrize(
    ("code", "expected", "parameter"),
    [
        ("SPI_INVALIDE", "00370", "numeroFiscal"),
        ("REFERENCE_AVIS_INVALIDE", "00371", "referenceAvis"),
    ],
)
async def test_identifiers_rejected_by_dgfip(code: str, expected: str, parameter: str) -> None:
    error = await _fetch_with(httpx.Response(400, json={"code": code}))
    assert (error.status, error.spec.code, error.parameter) == (422, expected, parameter)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html/>"),
        httpx.Response(200, json={"situationIr": "ILLISIBLE"}),
        httpx.Response(200, json={"situationIr": {"nbPart": "deux"}}),
        httpx.Response(200, json={"autre": {}}),
        httpx.Response(403, json={"code": "HABILITATION"}),
    ],
)
async def test_unknown_answer(answer: httpx.Response) -> None:
    error = await _fetch_with(answer)
    assert (error.status, error.spec.code) == (502, "27999")
