"""SDH at provider level: ``sdh.statut_sportif`` through the simulator over real HTTP.

Every staging case, params validation (digits-only identifier), scope masking, provider errors
(with the ``37xxx`` codes staging answers for SDH, see ``workers/sdh/_upstream.py``) and the
synthetic population.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from broker.errors import BROKER, ProblemError
from broker.kit import Upstream, validate_params
from broker.simulation import Person, Population, load_cases
from workers.sdh import PROVIDER
from workers.sdh.simulator import identifiant_of
from workers.sdh.statut_sportif import DATASET

from .conftest import (
    RunningProvider,
    assert_scopes_partition,
    outcome_matches,
    reference_scopes,
)

ERRORS = PROVIDER.errors
FOLDER = "api_particulier_v3_sdh_statut_sportif_with_identifiant"
ATHLETE: dict[str, Any] = {
    "identite": {
        "nom_naissance": "Durand",
        "nom_usage": None,
        "prenoms": "Léa",
        "date_naissance": "1999-02-03",
        "sexe": "F",
    },
    "est_sportif_de_haut_niveau": False,
    "a_ete_sportif_de_haut_niveau": True,
    "informations_statut": None,
    "informations_statuts_precedents": [
        {
            "fiche": 1234,
            "periode": {"date_debut_statut": "2019-01-01", "date_fin_statut": "2020-12-31"},
            "federation": {
                "code_federation": "12",
                "nom_federation": "Fédération française d'escrime",
                "nom_court_federation": "ESCRIME",
            },
            "etablissement": {"code_etablissement": "1011", "nom_etablissement": "INSEP"},
            "region": {"code_region": "11", "nom_region": "Île-de-France"},
            "categorie": {"code_categorie": "1", "nom_categorie": "Elite", "valeur": "12"},
            "sportif_de_haut_niveau": True,
        }
    ],
}


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _write_case(folder: Path, name: str, identifiant: str, status: int, payload: Any) -> None:
    (folder / name).write_text(
        yaml.safe_dump(
            {
                "params": {"identifiant": identifiant},
                "status": status,
                "payload": json.dumps(payload),
            }
        ),
        encoding="utf-8",
    )


def _error(code: str) -> dict[str, Any]:
    return {
        "errors": [
            {"code": code, "title": "t", "detail": "d", "source": None, "meta": {"provider": "SDH"}}
        ]
    }


@pytest.fixture
async def sdh(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("sdh")
    return running


async def test_every_staging_case_passes(sdh: RunningProvider) -> None:
    cases = sdh.cases(DATASET)
    assert cases
    failures = []
    for case in cases:
        got = await sdh.ask(DATASET, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, got.status, got.codes))
    assert not failures


async def test_cases_of_every_kind_are_served(serve_provider: Any, tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    folder.mkdir()
    _write_case(folder, "200.yaml", "777", 200, {"data": ATHLETE, "links": {}, "meta": {}})
    _write_case(folder, "404.yaml", "54321", 404, _error("37003"))
    _write_case(folder, "422.yaml", "43210", 422, {"errors": [BROKER.PARAMS_INVALID.error()]})
    _write_case(folder, "502.yaml", "24680", 502, _error("37999"))
    _write_case(folder, "504.yaml", "13579", 504, _error("37002"))
    running: RunningProvider = await serve_provider("sdh", cases=load_cases([tmp_path]))
    cases = running.cases(DATASET)
    assert len(cases) == 5
    for case in cases:
        got = await running.ask(DATASET, case.params)
        assert outcome_matches(case, got), (case.path.name, got)
    rejected = await running.ask(DATASET, {"identifiant": "43210"})
    assert rejected.errors[0]["source"] is None


async def test_example_params_answer_200(sdh: RunningProvider) -> None:
    got = await sdh.ask(DATASET, DATASET.example_params)
    assert got.status == 200


def test_error_codes() -> None:
    assert (ERRORS.timeout.code, ERRORS.not_found.code, ERRORS.unknown.code) == (
        "37002",
        "37003",
        "37999",
    )
    assert (ERRORS.unavailable.code, ERRORS.rate_limited.code) == ("41001", "41008")
    assert {spec.provider for spec in ERRORS} == {"SDH"}


@pytest.mark.parametrize("identifiant", [None, "", "  ", "12A45", "-12", "1" * 21, ["1"], 1.5])
def test_params_validation(identifiant: Any) -> None:
    raw = {} if identifiant is None else {"identifiant": identifiant}
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASET.params, raw)
    assert caught.value.spec == BROKER.IDENTIFIER_MISSING
    assert caught.value.error()["source"] == {"parameter": "identifiant"}


def test_valid_params() -> None:
    assert validate_params(DATASET.params, {"identifiant": " 0123 "}).model_dump() == {
        "identifiant": "0123"
    }
    number = validate_params(DATASET.params, {"identifiant": 12345, "recipient": "x"})
    assert number.model_dump() == {"identifiant": "12345"}


async def test_scopes(sdh: RunningProvider, population: Population) -> None:
    listed = reference_scopes("sdh/statut_sportif_with_identifiant")
    if listed is not None:
        assert set(DATASET.scopes) == listed
    assert_scopes_partition(DATASET, ATHLETE)
    for person in list(population)[:40]:
        if person.found:
            got = await sdh.ask(DATASET, {"identifiant": identifiant_of(person)})
            if got.data["informations_statuts_precedents"]:
                assert_scopes_partition(DATASET, got.data)
                break
    else:
        pytest.fail("no synthetic athlete with previous records")
    only = DATASET.mask(ATHLETE, frozenset({"sdh_statut_sportif_identite"}))
    assert only == {"identite": ATHLETE["identite"]}


async def test_synthetic_population(sdh: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    got = await sdh.ask(DATASET, {"identifiant": identifiant_of(person)})
    assert got.status == 200
    DATASET.data.model_validate(got.data)
    assert got.data["identite"]["nom_naissance"] == person.nom_naissance
    missing = _person(population, found=False)
    for identifiant in (identifiant_of(missing), "7", "99999999"):
        got = await sdh.ask(DATASET, {"identifiant": identifiant})
        assert (got.status, got.codes) == (404, ["37003"])
        assert got.errors[0]["meta"] == {"provider": "SDH"}


async def test_the_simulator_speaks_its_own_dialect(sdh: RunningProvider) -> None:
    async with httpx.AsyncClient(base_url=f"{sdh.base_url}/sdh/") as client:
        answer = await client.get("v2/sportifs/12345")
        unknown = await client.get("v2/sportifs/7")
    assert {"sportif", "ficheEnCours", "fichesAnterieures"} <= set(answer.json())
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SPORTIF_INCONNU")


async def test_provider_down(sdh: RunningProvider) -> None:
    await sdh.faults(down=True)
    try:
        got = await sdh.ask(DATASET, DATASET.example_params)
    finally:
        await sdh.faults(reset=True)
    assert (got.status, got.codes) == (504, ["41001"])


async def test_timeout(sdh: RunningProvider) -> None:
    await sdh.faults(timeout_rate=1.0, hang_s=3.0)
    started = time.monotonic()
    try:
        got = await sdh.ask(DATASET, DATASET.example_params, budget=1.0)
    finally:
        await sdh.faults(reset=True)
    assert (got.status, got.codes) == (504, ["37002"])
    assert time.monotonic() - started < 2.5


async def _fetch_with(answer: httpx.Response) -> ProblemError:
    transport = httpx.MockTransport(lambda _request: answer)
    upstream = Upstream("sdh", "http://sdh.invalid/", ERRORS, transport=transport)
    params = validate_params(DATASET.params, {"identifiant": "12345"})
    try:
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(None), params)
    finally:
        await upstream.aclose()
    return caught.value


async def test_identifier_rejected_by_sdh() -> None:
    error = await _fetch_with(httpx.Response(400, json={"code": "IDENTIFIANT_INVALIDE"}))
    assert (error.status, error.spec.code, error.parameter) == (422, "00366", None)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html/>"),
        httpx.Response(200, json=["sportif"]),
        httpx.Response(200, json={"sportif": {"genre": "X"}}),
        httpx.Response(409, json={"code": "ETAT_INCOHERENT"}),
    ],
)
async def test_unknown_answer(answer: httpx.Response) -> None:
    error = await _fetch_with(answer)
    assert (error.status, error.spec.code) == (502, "37999")
