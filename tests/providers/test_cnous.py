"""CNOUS at provider level: ``cnous.etudiant_boursier`` v3 and v4 through its simulator over
real HTTP.

Every staging case of the ``cnous`` folders (each in its folder's version), params validation
(INE or identity), scope masking, provider errors and the synthetic population.
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
from workers.cnous import PROVIDER
from workers.cnous._upstream import APIS, StudentParams, request_of

from .conftest import RunningProvider, outcome_matches

ERRORS = PROVIDER.errors
VERSIONS = (3, 4)
IDENTITY: dict[str, Any] = {
    "nomNaissance": "DURAND",
    "prenoms": ["SOPHIE", "MARIE"],
    "sexeEtatCivil": "F",
    "anneeDateNaissance": 2000,
    "moisDateNaissance": 3,
    "jourDateNaissance": 25,
    "codeCogInseeCommuneNaissance": "69123",
}


def _dataset(version: int) -> Dataset:
    found = PROVIDER.dataset("cnous.etudiant_boursier", version)
    assert found is not None
    return found


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _scopes_file() -> Path | None:
    shared = shared_dir()
    candidate = shared / "reference" / "api-particulier-scopes.yml" if shared else None
    return candidate if candidate is not None and candidate.is_file() else None


@pytest.fixture
async def cnous(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("cnous")
    return running


# Declarations


def test_two_versions_of_one_dataset() -> None:
    assert [(d.id, d.version) for d in PROVIDER.datasets] == [
        ("cnous.etudiant_boursier", 3),
        ("cnous.etudiant_boursier", 4),
    ]
    assert PROVIDER.dataset("cnous.etudiant_boursier") is _dataset(4)
    assert PROVIDER.label == "CNOUS"
    assert {s.code for s in ERRORS} == {"26001", "26002", "26003", "26008", "26999"}


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
    expected = set(declared["cnous/etudiant_boursier_with_ine"])
    expected |= set(declared["cnous/etudiant_boursier_with_civility"])
    assert set(_dataset(version).scopes) == expected


# Staging cases


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_staging_case_passes(cnous: RunningProvider, version: int) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    cases = cnous.cases(dataset)
    assert cases, "no staging case loaded"
    failures = []
    for case in cases:
        got = await cnous.ask(dataset, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.parent.name, case.path.name, got.status, got.codes))
    assert failures == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_example_params_answer_200(cnous: RunningProvider, version: int) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    got = await cnous.ask(dataset, dataset.example_params)
    assert got.status == 200
    matching = [c for c in cnous.cases(dataset) if c.params == dict(dataset.example_params)]
    assert matching, "example_params are not a staging case's"
    assert all(got.data == case.data for case in matching)


async def test_same_ine_answers_each_version_with_its_own_shape(
    serve_provider: Any, tmp_path: Path
) -> None:
    records = {
        3: {"est_boursier": True, "email": "a@b.fr", "identite": {"nom": "A"}},
        4: {
            "statut_boursier": {"est_boursier": False, "est_radie": True, "date_radiation": None},
            "identite": {"nom": "B"},
        },
    }
    for version, data in records.items():
        folder = tmp_path / f"api_particulier_v{version}_cnous_etudiant_boursier_with_ine"
        folder.mkdir()
        (folder / "200.yaml").write_text(
            yaml.safe_dump(
                {
                    "params": {"ine": "1111111111X"},
                    "status": 200,
                    "payload": json.dumps({"data": data}),
                }
            ),
            encoding="utf-8",
        )
    running: RunningProvider = await serve_provider("cnous", cases=load_cases([tmp_path]))
    for version, data in records.items():
        got = await running.ask(_dataset(version), {"ine": "1111111111x"})
        assert (got.status, got.data) == (200, data)


async def test_the_simulator_speaks_its_own_dialect(cnous: RunningProvider) -> None:
    params = validate_params(StudentParams, IDENTITY)
    assert isinstance(params, StudentParams)
    sent = request_of(APIS[4], params)
    assert sent.path == "v2/etudiants/recherche"
    assert sent.body == {
        "nomFamille": "DURAND",
        "prenoms": "SOPHIE, MARIE",
        "dateNaissance": "2000-03-25",
        "lieuNaissance": "69123",
        "civilite": "F",
    }
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{cnous.base_url}/cnous/v1/etudiants/1234567890A")
    body = response.json()
    assert response.status_code == 200
    assert {"boursier", "versement", "etudes", "echelon", "courriel", "etudiant"} <= set(body)


# Params validation


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("INE too short", {"ine": "123456789"}, "00360", "ine"),
    ("INE too long", {"ine": "123456789012"}, "00360", "ine"),
    ("INE with a dash", {"ine": "1234567890-"}, "00360", "ine"),
    ("INE empty", {"ine": ""}, "00360", "ine"),
    ("neither INE nor birth name", {"prenoms": ["JEAN"]}, "00366", "nomNaissance"),
    ("nothing at all", {}, "00366", "nomNaissance"),
    ("birth name with a digit", {**IDENTITY, "nomNaissance": "DUR4ND"}, "00366", "nomNaissance"),
    ("first name with a comma", {**IDENTITY, "prenoms": ["A,B"]}, "00366", "prenoms"),
    ("sex unknown", {**IDENTITY, "sexeEtatCivil": "X"}, "00366", "sexeEtatCivil"),
    ("month out of range", {**IDENTITY, "moisDateNaissance": 13}, "00366", "moisDateNaissance"),
    (
        "impossible date",
        {**IDENTITY, "moisDateNaissance": 2, "jourDateNaissance": 30},
        "00366",
        "jourDateNaissance",
    ),
    (
        "month without year",
        {"nomNaissance": "DURAND", "moisDateNaissance": 3},
        "00366",
        "anneeDateNaissance",
    ),
    (
        "commune malformed",
        {**IDENTITY, "codeCogInseeCommuneNaissance": "6912"},
        "00366",
        "codeCogInseeCommuneNaissance",
    ),
    (
        "commune name without département",
        {"nomNaissance": "DURAND", "nomCommuneNaissance": "Lyon", "anneeDateNaissance": 2000},
        "00366",
        "nomCommuneNaissance",
    ),
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
    ("INE alone", {"ine": "1234567890A"}),
    ("INE in lower case", {"ine": " 1234567890a "}),
    ("INE with an identity it does not use", {"ine": "1234567890A", "prenoms": ["A,B"]}),
    ("birth name alone", {"nomNaissance": "NOEL"}),
    ("full identity", IDENTITY),
    ("unknown parameters", {**IDENTITY, "foo": "bar", "codeInsee": 1}),
    ("no birthplace", {k: v for k, v in IDENTITY.items() if k != "codeCogInseeCommuneNaissance"}),
    ("accents and hyphens", {"nomNaissance": "D'ÉTANG-MARTIN", "prenoms": ["René"]}),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("label", "raw"), VALID, ids=[v[0] for v in VALID])
def test_lenient_params_are_accepted(version: int, label: str, raw: dict[str, Any]) -> None:
    validate_params(_dataset(version).params, raw)


def test_ine_pivot_and_its_subject() -> None:
    params = validate_params(StudentParams, {"ine": "1234567890a", "nomNaissance": "X"})
    assert isinstance(params, StudentParams)
    assert params.ine == "1234567890A"
    assert params.subject() == {"ine": "1234567890A"}
    assert request_of("v1", params).path == "v1/etudiants/1234567890A"
    identity = validate_params(StudentParams, IDENTITY)
    assert "ine" not in identity.subject()


# Scope masking


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_single_scope_unmasks_exactly_its_fields(
    cnous: RunningProvider, population: Population, version: int
) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    got = await cnous.ask(dataset, {"ine": _person(population, found=True).ine})
    assert got.status == 200
    for scope, paths in dataset.scopes.items():
        assert set(dataset.mask(got.data, frozenset({scope}))) == set(paths)
    assert dataset.mask(got.data, frozenset(dataset.scopes)) == got.data
    assert dataset.mask(got.data, frozenset()) == {}


# Provider errors


@pytest.mark.parametrize("version", VERSIONS)
async def test_not_found(cnous: RunningProvider, population: Population, version: int) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    unknown = _person(population, found=False)
    for params in ({"ine": unknown.ine}, unknown.params(), {"nomNaissance": "INCONNU"}):
        got = await cnous.ask(dataset, params)
        assert (got.status, got.codes) == (404, ["26003"])
        assert got.errors[0]["meta"] == {"provider": "CNOUS"}
        assert got.errors[0]["detail"].startswith("Aucun étudiant boursier")


@pytest.mark.parametrize("version", VERSIONS)
async def test_provider_down_then_back(
    cnous: RunningProvider, population: Population, version: int
) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    params = {"ine": _person(population, found=True).ine}
    await cnous.faults(down=True)
    try:
        got = await cnous.ask(dataset, params)
    finally:
        await cnous.faults(reset=True)
    assert (got.status, got.codes) == (504, ["26001"])
    assert got.errors[0]["meta"]["provider"] == "CNOUS"
    assert (await cnous.ask(dataset, params)).status == 200


async def test_timeout(cnous: RunningProvider, population: Population) -> None:
    await cnous.faults(timeout_rate=1.0, hang_s=1.5)
    try:
        started = time.monotonic()
        got = await cnous.ask(_dataset(4), {"ine": _person(population, found=True).ine}, budget=0.5)
        spent = time.monotonic() - started
    finally:
        await cnous.faults(reset=True)
    assert (got.status, got.codes) == (504, ["26002"])
    assert spent < 1.5


async def test_rate_limited(cnous: RunningProvider, population: Population) -> None:
    await cnous.faults(rate_limit_rate=1.0)
    try:
        got = await cnous.ask(_dataset(3), {"ine": _person(population, found=True).ine}, budget=3.0)
    finally:
        await cnous.faults(reset=True)
    assert (got.status, got.codes) == (429, ["26008"])


FAILURE_CASES: list[tuple[str, int, str]] = [
    ("unknown answer", 502, "26999"),
    ("provider timeout", 504, "26002"),
    ("identity refused by the provider", 422, "00366"),
    ("INE refused by the provider", 422, "00360"),
]


@pytest.mark.parametrize(
    ("label", "status", "code"), FAILURE_CASES, ids=[f[0] for f in FAILURE_CASES]
)
async def test_a_failure_case_is_reproduced(
    serve_provider: Any, tmp_path: Path, label: str, status: int, code: str
) -> None:
    folder = tmp_path / "api_particulier_v4_cnous_etudiant_boursier_with_ine"
    folder.mkdir()
    payload = {"errors": [{"code": code, "title": label, "detail": label, "source": None}]}
    (folder / "case.yaml").write_text(
        yaml.safe_dump(
            {"params": {"ine": "2222222222Z"}, "status": status, "payload": json.dumps(payload)}
        ),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("cnous", cases=load_cases([tmp_path]))
    got = await running.ask(_dataset(4), {"ine": "2222222222Z"})
    assert (got.status, got.codes) == (status, [code])


BROKEN_ANSWERS: list[tuple[str, httpx.Response]] = [
    ("not json", httpx.Response(200, content=b"<html>maintenance</html>")),
    ("not an object", httpx.Response(200, json=[1, 2])),
    ("no student", httpx.Response(200, json={"boursier": True})),
    ("wrong type", httpx.Response(200, json={"etudiant": {"nomFamille": "A", "civilite": "X"}})),
    ("error body with 200", httpx.Response(200, json={"erreur": "ETUDIANT_NON_TROUVE"})),
    ("unknown error code", httpx.Response(400, json={"erreur": "AUTRE"})),
]


@pytest.mark.parametrize(("label", "answer"), BROKEN_ANSWERS, ids=[b[0] for b in BROKEN_ANSWERS])
async def test_a_malformed_answer_is_the_unknown_error(label: str, answer: httpx.Response) -> None:
    upstream = Upstream(
        "cnous", "http://cnous.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    dataset = _dataset(3)
    try:
        with pytest.raises(ProblemError) as caught:
            await dataset.fetch(upstream.call(None), validate_params(dataset.params, IDENTITY))
    finally:
        await upstream.aclose()
    assert (caught.value.spec.code, caught.value.status) == ("26999", 502)


async def test_missing_optional_fields_are_not_refused() -> None:
    answer = httpx.Response(
        200, json={"statut": {"boursier": True}, "etudiant": {"nomFamille": "A"}}
    )
    upstream = Upstream(
        "cnous", "http://cnous.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    dataset = _dataset(4)
    try:
        data = await dataset.fetch(upstream.call(None), validate_params(dataset.params, IDENTITY))
    finally:
        await upstream.aclose()
    assert data == {"statut_boursier": {"est_boursier": True}, "identite": {"nom": "A"}}


# Synthetic population


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_population_is_found_by_identity_and_by_ine(
    cnous: RunningProvider, population: Population, version: int
) -> None:
    dataset = cnous.dataset("cnous.etudiant_boursier", version)
    found = [p for p in (population.person(i) for i in range(40)) if p.found][:5]
    for person in found:
        by_identity = await cnous.ask(dataset, person.params())
        by_ine = await cnous.ask(dataset, {"ine": person.ine})
        assert by_identity.status == by_ine.status == 200
        assert by_identity.data == by_ine.data
        dataset.data.model_validate(by_identity.data)
        assert by_identity.data["identite"]["nom"] == person.nom_naissance
        assert by_identity.data["identite"]["date_naissance"] == person.date_naissance.isoformat()


async def test_a_known_person_with_another_birth_date_is_not_found(
    cnous: RunningProvider, population: Population
) -> None:
    person = _person(population, found=True)
    params = {**person.params(), "anneeDateNaissance": person.date_naissance.year - 1}
    got = await cnous.ask(_dataset(4), params)
    assert (got.status, got.codes) == (404, ["26003"])


def test_a_birth_commune_name_is_resolved_to_its_cog_code() -> None:
    params = validate_params(
        StudentParams,
        {
            "nomNaissance": "DURAND",
            "nomCommuneNaissance": "Gennevilliers",
            "codeCogInseeDepartementNaissance": "92",
            "anneeDateNaissance": 1990,
        },
    )
    assert isinstance(params, StudentParams)
    assert params.codeCogInseeCommuneNaissance == "92036"
    assert request_of("v1", params).body == {
        "nomFamille": "DURAND",
        "dateNaissance": "1990",
        "lieuNaissance": "92036",
    }
