"""MEN at provider level: ``men.scolarites`` v3 and v4 through its simulator over real HTTP.

Every staging case of the ``men`` folders (each in its folder's version), params validation
(identity, school year, one school or a search area, exclusive), scope masking, provider
errors and the synthetic population, searched in a school and in an area.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from broker.errors import ProblemError
from broker.kit import Dataset, Upstream, validate_params
from broker.simulation import Person, Population, load_cases, shared_dir
from workers.men import PROVIDER
from workers.men._upstream import SchoolingParams, request_of

from .conftest import RunningProvider, outcome_matches

ERRORS = PROVIDER.errors
VERSIONS = (3, 4)
PUPIL: dict[str, Any] = {
    "nomNaissance": "ROBERT",
    "prenoms": ["CLARA"],
    "sexeEtatCivil": "F",
    "anneeDateNaissance": 2005,
    "moisDateNaissance": 9,
    "jourDateNaissance": 21,
    "codeEtablissement": "0130039X",
    "anneeScolaire": "2025",
}
AREA = {"degreEtablissement": "2D", "codesBcnDepartements": ["013"]}


def _dataset(version: int) -> Dataset:
    found = PROVIDER.dataset("men.scolarites", version)
    assert found is not None
    return found


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _pupil_params(person: Person, **search: Any) -> dict[str, Any]:
    where = search or {"codeEtablissement": "0750652B"}
    return {**person.params(), "anneeScolaire": "2025", **where}


def _without(raw: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in names}


def _scopes_file() -> Path | None:
    shared = shared_dir()
    candidate = shared / "reference" / "api-particulier-scopes.yml" if shared else None
    return candidate if candidate is not None and candidate.is_file() else None


@pytest.fixture
async def men(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("men")
    return running


# Declarations


def test_two_versions_of_one_dataset() -> None:
    assert [(d.id, d.version) for d in PROVIDER.datasets] == [
        ("men.scolarites", 3),
        ("men.scolarites", 4),
    ]
    assert PROVIDER.dataset("men.scolarites") is _dataset(4)
    assert PROVIDER.label == "MEN"
    assert {s.code for s in ERRORS} == {"30001", "30002", "30003", "30008", "30999"}


@pytest.mark.parametrize("version", VERSIONS)
def test_each_data_field_belongs_to_exactly_one_scope(version: int) -> None:
    dataset = _dataset(version)
    paths = [p for group in dataset.scopes.values() for p in group]
    assert len(paths) == len(set(paths))
    assert set(paths) == set(dataset.data.model_fields)


@pytest.mark.parametrize("version", VERSIONS)
def test_scopes_match_api_particulier(version: int) -> None:
    source = _scopes_file()
    if source is None:
        pytest.skip("api-particulier-scopes.yml not found beside the checkout")
    declared = yaml.safe_load(source.read_text(encoding="utf-8"))
    assert set(_dataset(version).scopes) == set(declared["men/scolarites_with_civility"])


# Staging cases


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_staging_case_passes(men: RunningProvider, version: int) -> None:
    dataset = men.dataset("men.scolarites", version)
    cases = men.cases(dataset)
    assert cases, "no staging case loaded"
    failures = []
    for case in cases:
        got = await men.ask(dataset, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.parent.name, case.path.name, got.status, got.codes))
    assert failures == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_example_params_answer_200(men: RunningProvider, version: int) -> None:
    dataset = men.dataset("men.scolarites", version)
    got = await men.ask(dataset, dataset.example_params)
    assert got.status == 200
    matching = [c for c in men.cases(dataset) if c.params == dict(dataset.example_params)]
    assert matching, "example_params are not a staging case's"
    assert all(got.data == case.data for case in matching)


async def test_a_search_without_sex_reaches_the_provider(
    serve_provider: Any, tmp_path: Path
) -> None:
    """Staging answers a search whose sex was misspelt (``sexe``): the provider timed out."""
    folder = tmp_path / "api_particulier_v3_men_scolarites_with_civility"
    folder.mkdir()
    params = {**_without(PUPIL, "sexeEtatCivil"), "sexe": "M"}
    payload = {"errors": [{"code": "30002", "title": "Intermédiaire hors-délai"}]}
    (folder / "504.yaml").write_text(
        yaml.safe_dump({"params": params, "status": 504, "payload": json.dumps(payload)}),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("men", cases=load_cases([tmp_path]))
    got = await running.ask(_dataset(3), params)
    assert (got.status, got.codes) == (504, ["30002"])


async def test_the_simulator_speaks_its_own_dialect(men: RunningProvider) -> None:
    params = validate_params(SchoolingParams, PUPIL)
    assert isinstance(params, SchoolingParams)
    sent = request_of("v1", params)
    assert (sent.method, sent.path, sent.body) == ("GET", "v1/eleves", None)
    assert sent.query == {
        "nom": "ROBERT",
        "prenom": "CLARA",
        "sexe": "2",
        "date-naissance": "2005-09-21",
        "annee-scolaire": "2025",
        "code-uai": "0130039X",
    }
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{men.base_url}/men/v2/eleves", params=sent.query)
    assert response.status_code == 200
    assert {"eleve", "mef", "etablissement", "scolarise", "statut", "boursier"} <= set(
        response.json()
    )
    area = validate_params(SchoolingParams, {**_without(PUPIL, "codeEtablissement"), **AREA})
    assert isinstance(area, SchoolingParams)
    searched = request_of("v2", area)
    assert (searched.method, searched.path, searched.query) == (
        "POST",
        "v2/eleves/recherche-perimetre",
        None,
    )
    assert searched.body is not None
    assert searched.body["type-perimetre"] == "departement"
    assert searched.body["valeurs-perimetre"] == ["013"]
    assert searched.body["degre-etablissement"] == "2D"


# Params validation


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("school and area", {**PUPIL, **AREA}, "00419", "codeEtablissement"),
    (
        "school and regions",
        {**PUPIL, "codesBcnRegions": ["11"], "degreEtablissement": "1D"},
        "00419",
        "codeEtablissement",
    ),
    ("neither school nor area", _without(PUPIL, "codeEtablissement"), "00366", "codeEtablissement"),
    (
        "area without degree",
        {**_without(PUPIL, "codeEtablissement"), "codesBcnRegions": ["11"]},
        "00366",
        "degreEtablissement",
    ),
    (
        "degree unknown",
        {**_without(PUPIL, "codeEtablissement"), **AREA, "degreEtablissement": "3D"},
        "00366",
        "degreEtablissement",
    ),
    (
        "départements and regions",
        {**_without(PUPIL, "codeEtablissement"), **AREA, "codesBcnRegions": ["11"]},
        "00366",
        "codesBcnRegions",
    ),
    (
        "département malformed",
        {**_without(PUPIL, "codeEtablissement"), **AREA, "codesBcnDepartements": ["13"]},
        "00366",
        "codesBcnDepartements",
    ),
    (
        "region malformed",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "1D",
            "codesBcnRegions": ["ILE"],
        },
        "00366",
        "codesBcnRegions",
    ),
    (
        "school code malformed",
        {**PUPIL, "codeEtablissement": "013003X"},
        "00366",
        "codeEtablissement",
    ),
    ("school year missing", _without(PUPIL, "anneeScolaire"), "00366", "anneeScolaire"),
    ("school year malformed", {**PUPIL, "anneeScolaire": "25-26"}, "00366", "anneeScolaire"),
    ("birth name missing", _without(PUPIL, "nomNaissance"), "00366", "nomNaissance"),
    ("first names missing", _without(PUPIL, "prenoms"), "00366", "prenoms"),
    ("birth day missing", _without(PUPIL, "jourDateNaissance"), "00366", "jourDateNaissance"),
    (
        "impossible date",
        {**PUPIL, "moisDateNaissance": 2, "jourDateNaissance": 31},
        "00366",
        "jourDateNaissance",
    ),
    ("sex unknown", {**PUPIL, "sexeEtatCivil": "Z"}, "00366", "sexeEtatCivil"),
    ("first name with a digit", {**PUPIL, "prenoms": ["CL4RA"]}, "00366", "prenoms"),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("label", "raw", "code", "parameter"), INVALID, ids=[i[0] for i in INVALID]
)
def test_invalid_params_are_refused_with_their_code_and_parameter(
    version: int, label: str, raw: dict[str, Any], code: str, parameter: str
) -> None:
    with pytest.raises(ProblemError) as caught:
        validate_params(_dataset(version).params, raw)
    assert caught.value.spec.code == code
    assert caught.value.status == 422
    assert caught.value.error()["source"] == {"parameter": parameter}


VALID: list[tuple[str, dict[str, Any]]] = [
    ("in one school", PUPIL),
    ("in départements", {**_without(PUPIL, "codeEtablissement"), **AREA}),
    (
        "in regions",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "1d",
            "codesBcnRegions": ["11", "28"],
        },
    ),
    (
        "one département as text",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "2D",
            "codesBcnDepartements": "02A",
        },
    ),
    ("degree with a school", {**PUPIL, "degreEtablissement": "2D"}),
    ("empty area with a school", {**PUPIL, "codesBcnRegions": []}),
    ("school year as a span", {**PUPIL, "anneeScolaire": "2024-2025"}),
    ("school year as a number", {**PUPIL, "anneeScolaire": 2025}),
    ("school code in lower case", {**PUPIL, "codeEtablissement": "0130039x"}),
    ("no sex", _without(PUPIL, "sexeEtatCivil")),
    ("unknown parameters", {**PUPIL, "sexe": "F", "foo": 1}),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("label", "raw"), VALID, ids=[v[0] for v in VALID])
def test_lenient_params_are_accepted(version: int, label: str, raw: dict[str, Any]) -> None:
    validate_params(_dataset(version).params, raw)


# Scope masking


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_single_scope_unmasks_exactly_its_fields(
    men: RunningProvider, version: int
) -> None:
    dataset = men.dataset("men.scolarites", version)
    got = await men.ask(dataset, dataset.example_params)
    assert got.status == 200
    for scope, paths in dataset.scopes.items():
        assert set(dataset.mask(got.data, frozenset({scope}))) == set(paths) & set(got.data)
    assert dataset.mask(got.data, frozenset(dataset.scopes)) == got.data
    assert dataset.mask(got.data, frozenset()) == {}
    assert dataset.mask(got.data, frozenset({"men_statut_boursier"})) == {
        "est_boursier": got.data["est_boursier"]
    }


# Provider errors


@pytest.mark.parametrize("version", VERSIONS)
async def test_not_found(men: RunningProvider, population: Population, version: int) -> None:
    dataset = men.dataset("men.scolarites", version)
    unknown = _person(population, found=False)
    for params in (
        _pupil_params(unknown),
        _pupil_params(unknown, **AREA),
        {**PUPIL, "nomNaissance": "INCONNU"},
    ):
        got = await men.ask(dataset, params)
        assert (got.status, got.codes) == (404, ["30003"])
        assert got.errors[0]["meta"] == {"provider": "MEN"}
        assert got.errors[0]["detail"].startswith("Aucun élève n'a pu être trouvé")


@pytest.mark.parametrize("version", VERSIONS)
async def test_provider_down_then_back(
    men: RunningProvider, population: Population, version: int
) -> None:
    dataset = men.dataset("men.scolarites", version)
    params = _pupil_params(_person(population, found=True))
    await men.faults(down=True)
    try:
        got = await men.ask(dataset, params)
    finally:
        await men.faults(reset=True)
    assert (got.status, got.codes) == (504, ["30001"])
    assert got.errors[0]["meta"]["provider"] == "MEN"
    assert (await men.ask(dataset, params)).status == 200


async def test_timeout(men: RunningProvider, population: Population) -> None:
    await men.faults(timeout_rate=1.0, hang_s=1.5)
    try:
        started = time.monotonic()
        got = await men.ask(_dataset(4), _pupil_params(_person(population, found=True)), budget=0.5)
        spent = time.monotonic() - started
    finally:
        await men.faults(reset=True)
    assert (got.status, got.codes) == (504, ["30002"])
    assert spent < 1.5


async def test_latency_is_tolerated(men: RunningProvider, population: Population) -> None:
    await men.faults(latency_ms=150)
    try:
        started = time.monotonic()
        got = await men.ask(_dataset(3), _pupil_params(_person(population, found=True)))
    finally:
        await men.faults(reset=True)
    assert got.status == 200
    assert time.monotonic() - started >= 0.15


FAILURE_CASES: list[tuple[str, int, str]] = [
    ("unknown answer", 502, "30999"),
    ("rate limited by the provider", 429, "30008"),
    ("identity refused by the provider", 422, "00366"),
]


@pytest.mark.parametrize(
    ("label", "status", "code"), FAILURE_CASES, ids=[f[0] for f in FAILURE_CASES]
)
async def test_a_failure_case_is_reproduced(
    serve_provider: Any, tmp_path: Path, label: str, status: int, code: str
) -> None:
    folder = tmp_path / "api_particulier_v4_men_scolarites_with_civility"
    folder.mkdir()
    params = {**_without(PUPIL, "codeEtablissement"), **AREA}
    payload = {"errors": [{"code": code, "title": label, "detail": label, "source": None}]}
    (folder / "case.yaml").write_text(
        yaml.safe_dump({"params": params, "status": status, "payload": json.dumps(payload)}),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("men", cases=load_cases([tmp_path]))
    got = await running.ask(_dataset(4), params, budget=3.0)
    assert (got.status, got.codes) == (status, [code])


BROKEN_ANSWERS: list[tuple[str, httpx.Response]] = [
    ("not json", httpx.Response(200, content=b"<html/>")),
    ("no pupil", httpx.Response(200, json={"scolarise": True})),
    ("echelon out of range", httpx.Response(200, json={"eleve": {}, "echelonBourse": 9})),
    ("malformed school year", httpx.Response(200, json={"eleve": {}, "anneeScolaire": "25"})),
    ("errors with 200", httpx.Response(200, json={"erreurs": [{"code": "ELEVE_NON_TROUVE"}]})),
    ("unknown error code", httpx.Response(400, json={"erreurs": [{"code": "AUTRE"}]})),
    ("empty errors", httpx.Response(404, json={"erreurs": []})),
]


@pytest.mark.parametrize(("label", "answer"), BROKEN_ANSWERS, ids=[b[0] for b in BROKEN_ANSWERS])
async def test_a_malformed_answer_is_the_unknown_error(label: str, answer: httpx.Response) -> None:
    upstream = Upstream(
        "men", "http://men.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    dataset = _dataset(3)
    try:
        with pytest.raises(ProblemError) as caught:
            await dataset.fetch(upstream.call(None), validate_params(dataset.params, PUPIL))
    finally:
        await upstream.aclose()
    assert (caught.value.spec.code, caught.value.status) == ("30999", 502)


async def test_nulls_and_absent_fields_pass_through() -> None:
    answer = httpx.Response(
        200, json={"eleve": {"nom": "A"}, "boursier": False, "echelonBourse": None, "mef": None}
    )
    upstream = Upstream(
        "men", "http://men.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    dataset = _dataset(4)
    try:
        data = await dataset.fetch(upstream.call(None), validate_params(dataset.params, PUPIL))
    finally:
        await upstream.aclose()
    assert data == {
        "identite": {"nom": "A"},
        "est_boursier": False,
        "echelon_bourse": None,
        "module_elementaire_formation": None,
    }


# Synthetic population


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_population_is_found_in_a_school_and_in_an_area(
    men: RunningProvider, population: Population, version: int
) -> None:
    dataset = men.dataset("men.scolarites", version)
    found = [p for p in (population.person(i) for i in range(40)) if p.found][:5]
    for person in found:
        in_school = await men.ask(dataset, _pupil_params(person))
        in_area = await men.ask(
            dataset, _pupil_params(person, degreEtablissement="1D", codesBcnRegions=["11"])
        )
        assert in_school.status == in_area.status == 200
        for got in (in_school, in_area):
            dataset.data.model_validate(got.data)
            assert got.data["identite"]["nom"] == person.nom_naissance
            assert got.data["annee_scolaire"] == "2025-2026"
        assert in_school.data["etablissement"]["code_uai"] == "0750652B"


async def test_a_known_person_with_another_first_name_is_not_found(
    men: RunningProvider, population: Population
) -> None:
    person = _person(population, found=True)
    params = {**_pupil_params(person), "prenoms": ["ZOE"]}
    got = await men.ask(_dataset(4), params)
    assert (got.status, got.codes) == (404, ["30003"])
