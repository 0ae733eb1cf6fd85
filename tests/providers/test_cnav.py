"""CNAV at provider level: the eight datasets through their simulator over real HTTP.

Every staging case of the ``cnav`` folders (API Particulier's own access checks left out),
params validation, scope masking, provider errors and the synthetic population.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from broker.errors import BROKER, ProblemError
from broker.kit import Dataset, Upstream, validate_params
from broker.simulation import (
    Case,
    Person,
    Population,
    SimulatorContext,
    build_app,
    load_cases,
    serve,
    shared_dir,
)
from workers.cnav import PROVIDER
from workers.cnav._benefits import NOT_FOUND_DETAIL, BenefitCivility
from workers.cnav._upstream import request_body
from workers.cnav.simulator import build_simulator

from .conftest import RunningProvider, outcome_matches

ERRORS = PROVIDER.errors
DATASETS = {d.id: d for d in PROVIDER.datasets}
BENEFITS = sorted(i for i, d in DATASETS.items() if d.params is BenefitCivility)
ALL = sorted(DATASETS)

IDENTITY: dict[str, Any] = {
    "nomNaissance": "DUPONT",
    "prenoms": ["JEAN", "MARIE"],
    "sexeEtatCivil": "M",
    "anneeDateNaissance": 1980,
    "moisDateNaissance": 6,
    "jourDateNaissance": 12,
    "codeCogInseeCommuneNaissance": "08480",
    "codeCogInseePaysNaissance": "99100",
}


def _scopes_file() -> Path | None:
    shared = shared_dir()
    candidate = shared / "reference" / "api-particulier-scopes.yml" if shared else None
    return candidate if candidate is not None and candidate.is_file() else None


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


@asynccontextmanager
async def _serving(population: Population, cases: list[Case]) -> AsyncIterator[RunningProvider]:
    """The CNAV simulator alone over real HTTP, taken from the package rather than the
    registry so that a neighbour package being edited cannot fail these tests."""
    ctx = SimulatorContext(population=population, cases=cases)
    runner = await serve(build_app({"cnav": build_simulator}, ctx), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    upstream = Upstream("cnav", f"{base}/cnav/", ERRORS, timeout=2.0)
    try:
        yield RunningProvider(PROVIDER, ctx, base, upstream)
    finally:
        await upstream.aclose()
        await runner.cleanup()


@pytest.fixture(scope="module")
async def cnav(
    population: Population, conformance_cases: list[Case]
) -> AsyncIterator[RunningProvider]:
    async with _serving(population, conformance_cases) as running:
        yield running


# Declarations


def test_every_cnav_dataset_is_declared_once_in_version_3() -> None:
    assert ALL == [
        "cnav.allocation_adulte_handicape",
        "cnav.allocation_enfant_handicape",
        "cnav.allocation_soutien_familial",
        "cnav.complementaire_sante_solidaire",
        "cnav.participation_familiale_eaje",
        "cnav.prime_activite",
        "cnav.quotient_familial",
        "cnav.revenu_solidarite_active",
    ]
    for dataset in PROVIDER.datasets:
        assert dataset.version == 3
        assert dataset.route == f"/v3/dss/{dataset.name}/identite"
        assert dataset.endpoint is not None
        example = validate_params(dataset.params, dataset.example_params)
        assert dataset.endpoint.request(example).path.startswith("v2/prestations/")


@pytest.mark.parametrize("dataset_id", ALL)
def test_each_data_field_belongs_to_exactly_one_scope(dataset_id: str) -> None:
    dataset = DATASETS[dataset_id]
    paths = [p for group in dataset.scopes.values() for p in group]
    assert len(paths) == len(set(paths))
    assert set(paths) == set(dataset.data.model_fields)


@pytest.mark.parametrize("dataset_id", ALL)
def test_scopes_match_api_particulier(dataset_id: str) -> None:
    source = _scopes_file()
    if source is None:
        pytest.skip("api-particulier-scopes.yml not found beside the checkout")
    declared = yaml.safe_load(source.read_text(encoding="utf-8"))
    dataset = DATASETS[dataset_id]
    assert set(dataset.scopes) == set(declared[f"cnav/{dataset.name}_with_civility"])


@pytest.mark.parametrize("dataset_id", ALL)
def test_example_params_are_valid(dataset_id: str) -> None:
    dataset = DATASETS[dataset_id]
    validate_params(dataset.params, dataset.example_params)


# Staging cases


@pytest.mark.parametrize("dataset_id", ALL)
async def test_every_staging_case_passes(cnav: RunningProvider, dataset_id: str) -> None:
    dataset = cnav.dataset(dataset_id)
    cases = cnav.cases(dataset)
    assert cases, "no staging case loaded"
    failures = []
    for case in cases:
        got = await cnav.ask(dataset, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, case.status, got.status, got.codes))
    assert failures == []


@pytest.mark.parametrize("dataset_id", ALL)
async def test_example_params_answer_200(cnav: RunningProvider, dataset_id: str) -> None:
    """A staging case's params where the sample holds one answering 200, else a synthetic
    person's."""
    dataset = cnav.dataset(dataset_id)
    got = await cnav.ask(dataset, dataset.example_params)
    assert got.status == 200
    matching = [c for c in cnav.cases(dataset) if c.params == dict(dataset.example_params)]
    for case in matching:
        assert got.data == case.data


async def test_a_case_file_without_data_envelope_is_served(
    population: Population, tmp_path: Path
) -> None:
    folder = tmp_path / "api_particulier_v3_cnav_allocation_adulte_handicape_with_civility"
    folder.mkdir()
    body = {"est_beneficiaire": True, "date_debut_droit": "2022-11-29"}
    (folder / "200.yaml").write_text(
        yaml.safe_dump({"params": IDENTITY, "status": 200, "payload": json.dumps(body)}),
        encoding="utf-8",
    )
    async with _serving(population, load_cases([tmp_path])) as running:
        got = await running.ask(running.dataset("cnav.allocation_adulte_handicape"), IDENTITY)
    assert (got.status, got.data) == (200, body)


async def test_the_simulator_speaks_its_own_dialect(cnav: RunningProvider) -> None:
    dataset = cnav.dataset("cnav.complementaire_sante_solidaire")
    case = next(c for c in cnav.cases(dataset) if c.status == 200)
    params = validate_params(dataset.params, case.params)
    assert isinstance(params, BenefitCivility)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{cnav.base_url}/cnav/v2/prestations/c2s/recherche", json=request_body(params)
        )
    body = response.json()
    assert body["codeRetour"] == "00"
    assert set(body["resultat"]) == {"droitOuvert", "participationFinanciere", "dateOuvertureDroit"}


# Params validation


INVALID: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("birth name missing", {"nomNaissance": None}, "00366", "nomNaissance"),
    ("birth name with a digit", {"nomNaissance": "DUP0NT"}, "00366", "nomNaissance"),
    ("use name with a dot", {"nomUsage": "ST.MARTIN"}, "00366", "nomUsage"),
    ("first name with a digit", {"prenoms": ["J3AN"]}, "00366", "prenoms"),
    ("empty first name", {"prenoms": [""]}, "00366", "prenoms"),
    ("sex missing", {"sexeEtatCivil": None}, "00366", "sexeEtatCivil"),
    ("sex unknown", {"sexeEtatCivil": "X"}, "00366", "sexeEtatCivil"),
    ("month out of range", {"moisDateNaissance": 13}, "00366", "moisDateNaissance"),
    ("day out of range", {"jourDateNaissance": 32}, "00366", "jourDateNaissance"),
    (
        "impossible date",
        {"moisDateNaissance": 2, "jourDateNaissance": 30},
        "00366",
        "jourDateNaissance",
    ),
    ("birth in the future", {"anneeDateNaissance": 2090}, "00366", "anneeDateNaissance"),
    ("year not a number", {"anneeDateNaissance": "mil"}, "00366", "anneeDateNaissance"),
    (
        "malformed orphan month",
        {"anneeDateNaissance": None, "moisDateNaissance": 14},
        "00366",
        "moisDateNaissance",
    ),
    (
        "country not a COG code",
        {"codeCogInseePaysNaissance": "FR"},
        "00366",
        "codeCogInseePaysNaissance",
    ),
    (
        "commune malformed",
        {"codeCogInseeCommuneNaissance": "8480"},
        "00366",
        "codeCogInseeCommuneNaissance",
    ),
    (
        "born in France without commune",
        {"codeCogInseeCommuneNaissance": None},
        "00366",
        "codeCogInseeCommuneNaissance",
    ),
]


def _with(changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**IDENTITY, **changes}
    return {k: v for k, v in merged.items() if v is not None}


@pytest.mark.parametrize("dataset_id", BENEFITS)
@pytest.mark.parametrize(
    ("label", "changes", "code", "parameter"), INVALID, ids=[i[0] for i in INVALID]
)
def test_invalid_params_are_refused_with_their_code_and_parameter(
    dataset_id: str, label: str, changes: dict[str, Any], code: str, parameter: str | None
) -> None:
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASETS[dataset_id].params, _with(changes))
    assert caught.value.spec.code == code
    assert caught.value.error()["source"] == ({"parameter": parameter} if parameter else None)


VALID: list[tuple[str, dict[str, Any]]] = [
    ("unknown parameters", {"foo": "bar", "anneeNateNaissance": 1950}),
    ("no first name", {"prenoms": None}),
    (
        "no birth date",
        {"anneeDateNaissance": None, "moisDateNaissance": None, "jourDateNaissance": None},
    ),
    ("month and day without year", {"anneeDateNaissance": None}),
    ("day without month", {"moisDateNaissance": None}),
    ("no birth country", {"codeCogInseePaysNaissance": None}),
    (
        "born abroad without commune",
        {"codeCogInseePaysNaissance": "99131", "codeCogInseeCommuneNaissance": None},
    ),
    (
        "accents, hyphens and apostrophes",
        {"nomNaissance": "D'ÉTANG-MARTIN", "nomUsage": "D’ARTAGNAN", "prenoms": ["René"]},
    ),
    ("one first name as text", {"prenoms": "JEAN"}),
    ("lower-case sex", {"sexeEtatCivil": "m"}),
]


@pytest.mark.parametrize("dataset_id", BENEFITS)
@pytest.mark.parametrize(("label", "changes"), VALID, ids=[v[0] for v in VALID])
def test_lenient_params_are_accepted(dataset_id: str, label: str, changes: dict[str, Any]) -> None:
    validate_params(DATASETS[dataset_id].params, _with(changes))


def test_orphan_date_parts_are_not_sent_upstream() -> None:
    params = validate_params(BenefitCivility, _with({"anneeDateNaissance": None}))
    assert isinstance(params, BenefitCivility)
    assert params.birth_date_text() is None
    assert params.moisDateNaissance is None and params.jourDateNaissance is None
    partial = validate_params(BenefitCivility, _with({"moisDateNaissance": None}))
    assert isinstance(partial, BenefitCivility)
    assert partial.birth_date_text() == "1980"


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"annee": 1999}, "annee"),
        ({"mois": 13}, "mois"),
        ({"codeCogInseePaysNaissance": None}, "codeCogInseePaysNaissance"),
        ({"nomNaissance": None}, "nomNaissance"),
    ],
)
def test_family_quotient_params(changes: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASETS["cnav.quotient_familial"].params, _with(changes))
    assert caught.value.spec.code == "00366"
    assert caught.value.parameter == parameter


def test_family_quotient_ignores_unknown_params() -> None:
    validate_params(DATASETS["cnav.quotient_familial"].params, _with({"foo": 1}))


# Scope masking


@pytest.mark.parametrize("dataset_id", ALL)
async def test_a_single_scope_unmasks_exactly_its_fields(
    cnav: RunningProvider, population: Population, dataset_id: str
) -> None:
    dataset = cnav.dataset(dataset_id)
    got = await cnav.ask(dataset, _person(population, found=True).params())
    assert got.status == 200
    for scope, paths in dataset.scopes.items():
        assert set(dataset.mask(got.data, frozenset({scope}))) == set(paths)
    assert dataset.mask(got.data, frozenset(dataset.scopes)) == got.data
    assert dataset.mask(got.data, frozenset()) == {}
    assert dataset.mask(got.data, frozenset({"cnaf_quotient_familial_inconnu"})) == {}


# Provider errors


@pytest.mark.parametrize("dataset_id", ALL)
async def test_not_found(cnav: RunningProvider, population: Population, dataset_id: str) -> None:
    dataset = cnav.dataset(dataset_id)
    unknown = await cnav.ask(dataset, _person(population, found=False).params())
    assert (unknown.status, unknown.codes) == (404, ["37003"])
    assert unknown.errors[0]["meta"] == {"provider": "CNAV"}
    if dataset_id in BENEFITS:
        assert unknown.errors[0]["detail"] == NOT_FOUND_DETAIL
    stranger = await cnav.ask(dataset, _with({"nomNaissance": "INCONNU"}))
    assert (stranger.status, stranger.codes) == (404, ["37003"])


async def test_wrong_birth_date_of_a_known_person_is_not_found(
    cnav: RunningProvider, population: Population
) -> None:
    person = _person(population, found=True)
    params = {**person.params(), "anneeDateNaissance": person.date_naissance.year - 1}
    got = await cnav.ask(cnav.dataset("cnav.revenu_solidarite_active"), params)
    assert (got.status, got.codes) == (404, ["37003"])


@pytest.mark.parametrize("dataset_id", ALL)
async def test_provider_down_then_back(
    cnav: RunningProvider, population: Population, dataset_id: str
) -> None:
    dataset = cnav.dataset(dataset_id)
    params = _person(population, found=True).params()
    await cnav.faults(down=True)
    try:
        got = await cnav.ask(dataset, params)
    finally:
        await cnav.faults(reset=True)
    assert (got.status, got.codes) == (504, ["37001"])
    assert got.errors[0]["meta"]["provider"] == "CNAV"
    assert (await cnav.ask(dataset, params)).status == 200


async def test_timeout(cnav: RunningProvider, population: Population) -> None:
    dataset = cnav.dataset("cnav.complementaire_sante_solidaire")
    await cnav.faults(timeout_rate=1.0, hang_s=1.5)
    try:
        started = time.monotonic()
        got = await cnav.ask(dataset, _person(population, found=True).params(), budget=0.5)
        spent = time.monotonic() - started
    finally:
        await cnav.faults(reset=True)
    assert (got.status, got.codes) == (504, ["37002"])
    assert spent < 1.5


async def test_rate_limited(cnav: RunningProvider, population: Population) -> None:
    dataset = cnav.dataset("cnav.prime_activite")
    await cnav.faults(rate_limit_rate=1.0)
    try:
        got = await cnav.ask(dataset, _person(population, found=True).params(), budget=3.0)
    finally:
        await cnav.faults(reset=True)
    assert (got.status, got.codes) == (429, ["37008"])


async def test_latency_is_tolerated(cnav: RunningProvider, population: Population) -> None:
    dataset = cnav.dataset("cnav.allocation_soutien_familial")
    await cnav.faults(latency_ms=150)
    try:
        started = time.monotonic()
        got = await cnav.ask(dataset, _person(population, found=True).params())
    finally:
        await cnav.faults(reset=True)
    assert got.status == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("dataset_id", ALL)
async def test_unknown_upstream_answer(cnav: RunningProvider, dataset_id: str) -> None:
    dataset = cnav.dataset(dataset_id)
    case = next((c for c in cnav.cases(dataset) if c.status == 502), None)
    if case is None:
        pytest.skip("no 502 case loaded for this dataset")
    got = await cnav.ask(dataset, case.params)
    assert (got.status, got.codes) == (502, ["37999"])


async def test_unidentifiable_person(cnav: RunningProvider) -> None:
    dataset = cnav.dataset("cnav.complementaire_sante_solidaire")
    case = next(c for c in cnav.cases(dataset) if c.status == 422)
    got = await cnav.ask(dataset, case.params)
    assert (got.status, got.codes) == (422, ["00366"])
    assert got.errors[0]["code"] == BROKER.CIVILITY_INVALID.code


BROKEN_ANSWERS: list[tuple[str, httpx.Response]] = [
    ("not json", httpx.Response(200, content=b"<html>maintenance</html>")),
    ("no resultat", httpx.Response(200, json={"codeRetour": "00"})),
    ("resultat not an object", httpx.Response(200, json={"codeRetour": "00", "resultat": [1]})),
    (
        "wrong type",
        httpx.Response(
            200,
            json={
                "codeRetour": "00",
                "resultat": {"droitOuvert": "peut-etre", "dateOuvertureDroit": None},
            },
        ),
    ),
    ("unknown return code", httpx.Response(400, json={"codeRetour": "AUTRE"})),
]


@pytest.mark.parametrize(("label", "answer"), BROKEN_ANSWERS, ids=[b[0] for b in BROKEN_ANSWERS])
async def test_a_malformed_answer_is_the_unknown_error(label: str, answer: httpx.Response) -> None:
    transport = httpx.MockTransport(lambda _request: answer)
    upstream = Upstream("cnav", "http://cnav.invalid/", ERRORS, transport=transport)
    dataset = DATASETS["cnav.allocation_adulte_handicape"]
    try:
        with pytest.raises(ProblemError) as caught:
            await dataset.fetch(upstream.call(None), validate_params(dataset.params, IDENTITY))
    finally:
        await upstream.aclose()
    assert caught.value.spec.code == "37999"
    assert caught.value.status == 502


async def test_missing_optional_fields_are_not_refused() -> None:
    answer = httpx.Response(200, json={"codeRetour": "00", "resultat": {"droitOuvert": False}})
    upstream = Upstream(
        "cnav", "http://cnav.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    dataset = DATASETS["cnav.revenu_solidarite_active"]
    try:
        data = await dataset.fetch(upstream.call(None), validate_params(dataset.params, IDENTITY))
    finally:
        await upstream.aclose()
    assert data == {"est_beneficiaire": False}


# Synthetic population


@pytest.mark.parametrize("dataset_id", ALL)
async def test_synthetic_people_are_found_and_stable(
    cnav: RunningProvider, population: Population, dataset_id: str
) -> None:
    dataset = cnav.dataset(dataset_id)
    people = [p for p in (population.person(i) for i in range(40)) if p.found][:10]
    for person in people:
        first = await cnav.ask(dataset, person.params())
        assert first.status == 200, person.index
        dataset.data.model_validate(first.data)
        assert set(first.data) == set(dataset.data.model_fields)
        again = await cnav.ask(dataset, person.params())
        assert again.data == first.data


async def test_synthetic_benefits_vary_across_people(
    cnav: RunningProvider, population: Population
) -> None:
    dataset: Dataset = cnav.dataset("cnav.complementaire_sante_solidaire")
    answers = set()
    for index in range(60):
        person = population.person(index)
        if person.found:
            got = await cnav.ask(dataset, person.params())
            answers.add(got.data["est_beneficiaire"])
    assert answers == {True, False}
