"""France Travail at provider level: ``france_travail.statut`` and ``france_travail.indemnites``
through the simulator over real HTTP.

Every staging case of both folders, params validation, scope masking, provider errors (faults
injected through ``/_admin/faults``) and the synthetic population.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from broker.errors import BROKER, ProblemError
from broker.kit import Dataset, Upstream, validate_params
from broker.simulation import Person, Population
from workers.france_travail import PROVIDER

from .conftest import (
    RunningProvider,
    assert_scopes_partition,
    outcome_matches,
    reference_scopes,
)

ERRORS = PROVIDER.errors
DATASET_IDS = ("france_travail.statut", "france_travail.indemnites")


def _dataset(dataset_id: str) -> Dataset:
    found = PROVIDER.dataset(dataset_id)
    assert found is not None
    return found


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


@pytest.fixture
async def ft(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("france_travail")
    return running


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
async def test_every_staging_case_passes(ft: RunningProvider, dataset_id: str) -> None:
    dataset = _dataset(dataset_id)
    cases = ft.cases(dataset)
    assert cases, "no staging case loaded"
    failures = []
    for case in cases:
        got = await ft.ask(dataset, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, got.status, got.codes))
    assert not failures


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
async def test_example_params_answer_200(ft: RunningProvider, dataset_id: str) -> None:
    dataset = _dataset(dataset_id)
    got = await ft.ask(dataset, dataset.example_params)
    assert got.status == 200
    assert got.data["identifiant"] == dataset.example_params["identifiant"]


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_params_validation(dataset_id: str) -> None:
    model = _dataset(dataset_id).params
    for raw in (
        {},
        {"identifiant": ""},
        {"identifiant": "   "},
        {"identifiant": "x" * 101},
        {"identifiant": ["a"]},
    ):
        with pytest.raises(ProblemError) as caught:
            validate_params(model, raw)
        assert caught.value.spec == BROKER.IDENTIFIER_MISSING
        assert caught.value.error()["source"] == {"parameter": "identifiant"}
    valid = validate_params(model, {"identifiant": " jean.dupont33 ", "recipient": "1", "x": 2})
    assert valid.model_dump() == {"identifiant": "jean.dupont33"}
    assert validate_params(model, {"identifiant": 123456}).model_dump() == {"identifiant": "123456"}


@pytest.mark.parametrize(
    ("dataset_id", "endpoint"),
    [
        ("france_travail.statut", "france_travail/statut_with_identifiant"),
        ("france_travail.indemnites", "france_travail/indemnites_with_identifiant"),
    ],
)
async def test_scopes(ft: RunningProvider, dataset_id: str, endpoint: str) -> None:
    dataset = _dataset(dataset_id)
    listed = reference_scopes(endpoint)
    if listed is not None:
        assert set(dataset.scopes) == listed
    data = next(c.data for c in ft.cases(dataset) if c.status == 200)
    assert_scopes_partition(dataset, data)


async def test_a_single_scope_yields_its_group(ft: RunningProvider) -> None:
    dataset = _dataset("france_travail.statut")
    data = next(c.data for c in ft.cases(dataset) if c.status == 200)
    assert dataset.mask(data, frozenset({"pole_emploi_contact"})) == {"contact": data["contact"]}
    assert dataset.mask(data, frozenset({"pole_emploi_identifiant"})) == {
        "identifiant": data["identifiant"]
    }
    assert dataset.mask(data, frozenset()) == {}


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
async def test_synthetic_population(
    ft: RunningProvider, population: Population, dataset_id: str
) -> None:
    dataset = _dataset(dataset_id)
    person = _person(population, found=True)
    first = await ft.ask(dataset, {"identifiant": person.identifiant})
    assert first.status == 200
    assert first.data["identifiant"] == person.identifiant
    dataset.data.model_validate(first.data)
    assert (await ft.ask(dataset, {"identifiant": person.identifiant})).data == first.data
    missing = _person(population, found=False)
    got = await ft.ask(dataset, {"identifiant": missing.identifiant})
    assert (got.status, got.codes) == (404, ["24003"])
    assert got.errors[0]["meta"] == {"provider": "France Travail"}
    got = await ft.ask(dataset, {"identifiant": "personne.inconnue"})
    assert (got.status, got.codes) == (404, ["24003"])


async def test_statut_identity_of_a_synthetic_person(
    ft: RunningProvider, population: Population
) -> None:
    person = _person(population, found=True)
    got = await ft.ask(_dataset("france_travail.statut"), {"identifiant": person.identifiant})
    identite = got.data["identite"]
    assert identite["nom_naissance"] == person.nom_naissance
    assert identite["date_naissance"] == person.date_naissance.isoformat()
    assert identite["civilite"] == ("MME" if person.sexe == "F" else "M.")


async def test_the_simulator_speaks_its_own_dialect(ft: RunningProvider) -> None:
    async with httpx.AsyncClient(base_url=f"{ft.base_url}/france_travail/") as client:
        found = await client.get("v1/demandeurs/situation", params={"loginUsager": "default"})
        unknown = await client.get("v1/demandeurs/versements", params={"loginUsager": "inconnu"})
    assert found.status_code == 200
    assert set(found.json()) == {"demandeur"}
    assert "etatCivil" in found.json()["demandeur"]
    assert unknown.status_code == 404
    assert unknown.json()["codeErreur"] == "DEMANDEUR_INCONNU"


async def test_provider_down(ft: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await ft.faults(down=True)
    try:
        got = await ft.ask(_dataset("france_travail.statut"), {"identifiant": person.identifiant})
    finally:
        await ft.faults(reset=True)
    assert (got.status, got.codes) == (504, ["24001"])
    assert got.errors[0]["meta"]["retry_in"] > 0


async def test_timeout(ft: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await ft.faults(timeout_rate=1.0, hang_s=3.0)
    started = time.monotonic()
    try:
        got = await ft.ask(
            _dataset("france_travail.indemnites"), {"identifiant": person.identifiant}, budget=1.0
        )
    finally:
        await ft.faults(reset=True)
    assert (got.status, got.codes) == (504, ["24002"])
    assert time.monotonic() - started < 2.5


async def test_rate_limited(ft: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await ft.faults(rate_limit_rate=1.0)
    try:
        got = await ft.ask(_dataset("france_travail.statut"), {"identifiant": person.identifiant})
    finally:
        await ft.faults(reset=True)
    assert (got.status, got.codes) == (429, ["24008"])


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"demandeur": "illisible", "versements": 3}),
        httpx.Response(200, json={"demandeur": {"loginUsager": 1}, "loginUsager": None}),
        httpx.Response(403, json={"codeErreur": "ACCES_REFUSE"}),
    ],
)
@pytest.mark.parametrize("dataset_id", DATASET_IDS)
async def test_unknown_answer(dataset_id: str, answer: httpx.Response) -> None:
    upstream = Upstream(
        "france_travail",
        "http://france-travail.invalid/",
        ERRORS,
        transport=httpx.MockTransport(lambda _request: answer),
    )
    dataset = _dataset(dataset_id)
    params = validate_params(dataset.params, {"identifiant": "a"})
    try:
        with pytest.raises(ProblemError) as caught:
            await dataset.fetch(upstream.call(None), params)
    finally:
        await upstream.aclose()
    assert (caught.value.status, caught.value.spec.code) == (502, "24999")
