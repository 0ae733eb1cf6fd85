"""GIP-MDS at provider level: ``gip_mds.service_civique`` through the simulator over real HTTP.

Every staging case, params validation (identity without sex nor birthplace), scope masking
(nested groups), provider errors including an ambiguous identity (``00391``), and the synthetic
population.
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
from workers.gip_mds import PROVIDER
from workers.gip_mds.service_civique import DATASET

from .conftest import (
    RunningProvider,
    assert_scopes_partition,
    outcome_matches,
    reference_scopes,
)

ERRORS = PROVIDER.errors
IDENTITY: dict[str, Any] = {
    "nomNaissance": "DUPONT",
    "prenoms": ["MARIE", "LOUISE"],
    "anneeDateNaissance": 1998,
    "moisDateNaissance": 3,
    "jourDateNaissance": 15,
}


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


@pytest.fixture
async def gip(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("gip_mds")
    return running


async def test_every_staging_case_passes(gip: RunningProvider) -> None:
    cases = gip.cases(DATASET)
    assert len(cases) >= 6
    failures = []
    for case in cases:
        got = await gip.ask(DATASET, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, got.status, got.codes))
    assert not failures


async def test_example_params_answer_200(gip: RunningProvider) -> None:
    got = await gip.ask(DATASET, DATASET.example_params)
    assert got.status == 200
    assert got.data["statut_actuel"]["contrat_trouve"] is True


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"nomNaissance": None}, "nomNaissance"),
        ({"prenoms": None}, "prenoms"),
        ({"prenoms": ["A"] * 11}, "prenoms"),
        ({"anneeDateNaissance": None}, "anneeDateNaissance"),
        ({"moisDateNaissance": None}, "moisDateNaissance"),
        ({"jourDateNaissance": None}, "jourDateNaissance"),
        ({"jourDateNaissance": 32}, "jourDateNaissance"),
        (
            {"anneeDateNaissance": 2001, "moisDateNaissance": 2, "jourDateNaissance": 29},
            "jourDateNaissance",
        ),
        ({"anneeDateNaissance": "deux mille"}, "anneeDateNaissance"),
    ],
)
def test_params_validation(change: dict[str, Any], parameter: str) -> None:
    raw = {k: v for k, v in {**IDENTITY, **change}.items() if v is not None}
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASET.params, raw)
    assert caught.value.spec.code == "00366"
    assert caught.value.error()["source"] == {"parameter": parameter}


def test_sex_and_birthplace_are_not_needed() -> None:
    validate_params(DATASET.params, IDENTITY)
    validate_params(DATASET.params, {**IDENTITY, "codeCogInseePaysNaissance": "99100"})
    query_style = {**IDENTITY, "prenoms[]": IDENTITY["prenoms"]}
    del query_style["prenoms"]
    assert validate_params(DATASET.params, query_style) == validate_params(DATASET.params, IDENTITY)


async def test_scopes(gip: RunningProvider) -> None:
    listed = reference_scopes("gip_mds/service_civique_with_civility")
    if listed is not None:
        assert set(DATASET.scopes) == listed
    for case in gip.cases(DATASET):
        if case.status == 200:
            assert_scopes_partition(DATASET, case.data)


async def test_a_single_scope_yields_its_group(gip: RunningProvider) -> None:
    data = (await gip.ask(DATASET, DATASET.example_params)).data
    current, past = data["statut_actuel"], data["statut_passe"]
    assert DATASET.mask(data, frozenset({"gip_mds_service_civique_statut_actuel"})) == {
        "statut_actuel": {"contrat_trouve": current["contrat_trouve"]}
    }
    assert DATASET.mask(data, frozenset({"gip_mds_service_civique_organisme_accueil"})) == {
        "statut_actuel": {"organisme_accueil": current["organisme_accueil"]},
        "statut_passe": {"organisme_accueil": past["organisme_accueil"]},
    }
    dates = DATASET.mask(data, frozenset({"gip_mds_service_civique_dates"}))
    assert dates["statut_passe"] == {
        "date_debut_contrat": past["date_debut_contrat"],
        "date_fin_contrat": past["date_fin_contrat"],
    }


async def test_synthetic_population(gip: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    got = await gip.ask(DATASET, person.params())
    assert got.status == 200
    DATASET.data.model_validate(got.data)
    assert set(got.data) == {"statut_actuel", "statut_passe"}
    missing = _person(population, found=False)
    got = await gip.ask(DATASET, missing.params())
    assert (got.status, got.codes) == (404, ["31003"])
    assert got.errors[0]["meta"] == {"provider": "GIP-MDS"}


async def test_ambiguous_identity_from_a_case(serve_provider: Any, tmp_path: Path) -> None:
    folder = tmp_path / "api_particulier_v3_gip_mds_service_civique_with_civility"
    folder.mkdir()
    error = BROKER.AMBIGUOUS_IDENTITY.error()
    (folder / "422.yaml").write_text(
        yaml.safe_dump(
            {
                "params": {**IDENTITY, "nomNaissance": "HOMONYME"},
                "status": 422,
                "payload": json.dumps({"errors": [error]}),
            }
        ),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("gip_mds", cases=load_cases([tmp_path]))
    got = await running.ask(DATASET, {**IDENTITY, "nomNaissance": "HOMONYME"})
    assert (got.status, got.codes) == (422, ["00391"])
    assert "service civique" in got.errors[0]["detail"]
    assert got.errors[0]["meta"] == {}


async def test_the_simulator_speaks_its_own_dialect(gip: RunningProvider) -> None:
    async with httpx.AsyncClient(base_url=f"{gip.base_url}/gip_mds/") as client:
        answer = await client.post(
            "rest/v2/volontaires/recherche",
            json={
                "nomFamille": "DUPONT",
                "prenoms": ["MARIE", "LOUISE"],
                "dateNaissance": "1998-03-15",
            },
        )
    individus = answer.json()["individus"]
    assert len(individus) == 1
    assert individus[0]["contratEnCours"]["trouve"] is True


async def test_provider_down(gip: RunningProvider) -> None:
    await gip.faults(down=True)
    try:
        got = await gip.ask(DATASET, DATASET.example_params)
    finally:
        await gip.faults(reset=True)
    assert (got.status, got.codes) == (504, ["31001"])


async def test_timeout(gip: RunningProvider) -> None:
    await gip.faults(timeout_rate=1.0, hang_s=3.0)
    started = time.monotonic()
    try:
        got = await gip.ask(DATASET, DATASET.example_params, budget=1.0)
    finally:
        await gip.faults(reset=True)
    assert (got.status, got.codes) == (504, ["31002"])
    assert time.monotonic() - started < 2.5


async def _fetch_with(answer: httpx.Response) -> ProblemError:
    transport = httpx.MockTransport(lambda _request: answer)
    upstream = Upstream("gip_mds", "http://gip-mds.invalid/", ERRORS, transport=transport)
    params = validate_params(DATASET.params, IDENTITY)
    try:
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(None), params)
    finally:
        await upstream.aclose()
    return caught.value


async def test_several_individuals_are_ambiguous() -> None:
    error = await _fetch_with(httpx.Response(200, json={"individus": [{}, {}]}))
    assert (error.status, error.spec.code) == (422, "00391")


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html/>"),
        httpx.Response(200, json={"anomalie": "ERREUR_TECHNIQUE"}),
        httpx.Response(200, json={"individus": ["x"]}),
        httpx.Response(200, json={"individus": [{"contratEnCours": {"trouve": "peut-etre"}}]}),
        httpx.Response(404, json={"individus": []}),
    ],
)
async def test_unknown_answer(answer: httpx.Response) -> None:
    error = await _fetch_with(answer)
    assert (error.status, error.spec.code) == (502, "31999")
