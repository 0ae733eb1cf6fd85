"""MESRI at provider level: ``mesri.statut_etudiant`` through its simulator over real HTTP.

Every staging case of the ``mesri`` folders, params validation (INE or identity), scope
masking (down to each admission's fields), provider errors and the synthetic population.
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
from broker.kit import Upstream, validate_params
from broker.simulation import Person, Population, load_cases, shared_dir
from workers.mesri import PROVIDER
from workers.mesri._upstream import StudentParams, query_of

from .conftest import RunningProvider, outcome_matches

ERRORS = PROVIDER.errors
DATASET = PROVIDER.datasets[0]
IDENTITY: dict[str, Any] = {
    "nomNaissance": "MARTIN",
    "prenoms": ["Jacques"],
    "anneeDateNaissance": 2004,
    "moisDateNaissance": 1,
    "jourDateNaissance": 1,
    "sexeEtatCivil": "M",
    "codeCogInseeCommuneNaissance": "75102",
}


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _scopes_file() -> Path | None:
    shared = shared_dir()
    candidate = shared / "reference" / "api-particulier-scopes.yml" if shared else None
    return candidate if candidate is not None and candidate.is_file() else None


@pytest.fixture
async def mesri(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("mesri")
    return running


# Declarations


def test_one_dataset_in_version_3() -> None:
    assert [(d.id, d.version) for d in PROVIDER.datasets] == [("mesri.statut_etudiant", 3)]
    assert PROVIDER.label == "MESRI"
    assert {s.code for s in ERRORS} == {"25001", "25002", "25003", "25008", "25999"}


def test_each_data_field_belongs_to_exactly_one_scope() -> None:
    paths = [p for group in DATASET.scopes.values() for p in group]
    assert len(paths) == len(set(paths))
    top = {p.split(".", 1)[0] for p in paths}
    assert top == set(DATASET.data.model_fields)
    admission = DATASET.data.model_fields["admissions"].annotation
    fields = admission.__args__[0].model_fields  # type: ignore[union-attr]
    assert {p.split(".", 1)[1] for p in paths if p.startswith("admissions.")} == set(fields)


def test_scopes_match_api_particulier() -> None:
    source = _scopes_file()
    if source is None:
        pytest.skip("api-particulier-scopes.yml not found beside the checkout")
    declared = yaml.safe_load(source.read_text(encoding="utf-8"))
    assert set(DATASET.scopes) == set(declared["mesri/statut_etudiant_with_ine"])
    assert set(DATASET.scopes) == set(declared["mesri/statut_etudiant_with_civility"])


# Staging cases


async def test_every_staging_case_passes(mesri: RunningProvider) -> None:
    cases = mesri.cases(DATASET)
    assert cases, "no staging case loaded"
    failures = []
    for case in cases:
        got = await mesri.ask(DATASET, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.parent.name, case.path.name, got.status, got.codes))
    assert failures == []


async def test_example_params_answer_200(mesri: RunningProvider) -> None:
    got = await mesri.ask(DATASET, DATASET.example_params)
    assert got.status == 200
    matching = [c for c in mesri.cases(DATASET) if c.params == dict(DATASET.example_params)]
    assert matching, "example_params are not a staging case's"
    assert all(got.data == case.data for case in matching)


async def test_a_case_file_without_data_envelope_is_served(
    serve_provider: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "api_particulier_v3_mesri_statut_etudiant_with_ine"
    folder.mkdir()
    body = {"identite": {"nom_naissance": "Dupont"}, "admissions": [{"date_fin": "2021-06-31"}]}
    (folder / "ine.yaml").write_text(
        yaml.safe_dump(
            {"params": {"ine": "1234567890A"}, "status": 200, "payload": json.dumps(body)}
        ),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("mesri", cases=load_cases([tmp_path]))
    got = await running.ask(DATASET, {"ine": "1234567890A"})
    assert (got.status, got.data) == (200, body)


async def test_the_simulator_speaks_its_own_dialect(mesri: RunningProvider) -> None:
    params = validate_params(StudentParams, IDENTITY)
    assert isinstance(params, StudentParams)
    query = query_of(params)
    assert query == {
        "nom": "MARTIN",
        "prenom": "Jacques",
        "dateNaissance": "2004-01-01",
        "sexe": "1",
        "communeNaissance": "75102",
    }
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{mesri.base_url}/mesri/v1/statut-etudiant", params=query)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"etudiant", "inscriptions"}
    assert {"debut", "fin", "inscrit", "regime", "communeEtudes", "etablissement"} == set(
        body["inscriptions"][0]
    )


# Params validation


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("INE too short", {"ine": "123456789"}, "00360", "ine"),
    ("INE with a space inside", {"ine": "12345 67890"}, "00360", "ine"),
    ("INE not text", {"ine": ["1234567890A"]}, "00360", "ine"),
    ("nothing at all", {}, "00366", "nomNaissance"),
    ("birth name missing", {**IDENTITY, "nomNaissance": None}, "00366", "nomNaissance"),
    ("sex missing", {**IDENTITY, "sexeEtatCivil": None}, "00366", "sexeEtatCivil"),
    ("day missing", {**IDENTITY, "jourDateNaissance": None}, "00366", "jourDateNaissance"),
    ("year missing", {**IDENTITY, "anneeDateNaissance": None}, "00366", "anneeDateNaissance"),
    ("sex unknown", {**IDENTITY, "sexeEtatCivil": "H"}, "00366", "sexeEtatCivil"),
    (
        "impossible date",
        {**IDENTITY, "moisDateNaissance": 4, "jourDateNaissance": 31},
        "00366",
        "jourDateNaissance",
    ),
    (
        "birth in the future",
        {**IDENTITY, "anneeDateNaissance": 2090},
        "00366",
        "anneeDateNaissance",
    ),
    (
        "birth name with brackets",
        {**IDENTITY, "nomNaissance": "MARTIN (DIT)"},
        "00366",
        "nomNaissance",
    ),
    (
        "commune malformed",
        {**IDENTITY, "codeCogInseeCommuneNaissance": "ABCDE"},
        "00366",
        "codeCogInseeCommuneNaissance",
    ),
]


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if v is not None}


@pytest.mark.parametrize(
    ("label", "raw", "code", "parameter"), INVALID, ids=[i[0] for i in INVALID]
)
def test_invalid_params_are_refused_with_their_code_and_parameter(
    label: str, raw: dict[str, Any], code: str, parameter: str
) -> None:
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASET.params, _clean(raw))
    assert caught.value.spec.code == code
    assert caught.value.error()["source"] == {"parameter": parameter}


VALID: list[tuple[str, dict[str, Any]]] = [
    ("INE alone", {"ine": "655888578AE"}),
    ("INE with a malformed identity", {"ine": "655888578AE", "jourDateNaissance": 40}),
    ("full identity", IDENTITY),
    ("no first name", {**IDENTITY, "prenoms": None, "prenom": "Lola"}),
    ("no birthplace", {**IDENTITY, "codeCogInseeCommuneNaissance": None}),
    ("born abroad, country code as commune", {**IDENTITY, "codeCogInseeCommuneNaissance": "99424"}),
    ("unknown parameters", {**IDENTITY, "foo": "bar"}),
]


@pytest.mark.parametrize(("label", "raw"), VALID, ids=[v[0] for v in VALID])
def test_lenient_params_are_accepted(label: str, raw: dict[str, Any]) -> None:
    validate_params(DATASET.params, _clean(raw))


def test_the_register_takes_one_first_name() -> None:
    params = validate_params(StudentParams, {**IDENTITY, "prenoms": ["Marc", "Antoine"]})
    assert isinstance(params, StudentParams)
    assert query_of(params)["prenom"] == "Marc"
    ine = validate_params(StudentParams, {"ine": "655888578ae"})
    assert isinstance(ine, StudentParams)
    assert query_of(ine) == {"ine": "655888578AE"}
    assert ine.subject() == {"ine": "655888578AE"}


# Scope masking


async def test_a_single_scope_unmasks_exactly_its_fields(
    mesri: RunningProvider, population: Population
) -> None:
    got = await mesri.ask(DATASET, {"ine": _person(population, found=True).ine})
    assert got.status == 200
    assert got.data["admissions"]
    for scope, paths in DATASET.scopes.items():
        masked = DATASET.mask(got.data, frozenset({scope}))
        top = {p.split(".", 1)[0] for p in paths}
        assert set(masked) == top
        inner = {p.split(".", 1)[1] for p in paths if "." in p}
        for admission in masked.get("admissions", []):
            assert set(admission) == inner
    assert DATASET.mask(got.data, frozenset(DATASET.scopes)) == got.data
    assert DATASET.mask(got.data, frozenset()) == {}


# Provider errors


async def test_not_found(mesri: RunningProvider, population: Population) -> None:
    unknown = _person(population, found=False)
    for params in ({"ine": unknown.ine}, unknown.params(), {**IDENTITY, "nomNaissance": "INCONNU"}):
        got = await mesri.ask(DATASET, params)
        assert (got.status, got.codes) == (404, ["25003"])
        assert got.errors[0]["meta"] == {"provider": "MESRI"}
        assert got.errors[0]["detail"].startswith("Aucun étudiant n'a pu être trouvé")


async def test_provider_down_then_back(mesri: RunningProvider, population: Population) -> None:
    params = {"ine": _person(population, found=True).ine}
    await mesri.faults(down=True)
    try:
        got = await mesri.ask(DATASET, params)
    finally:
        await mesri.faults(reset=True)
    assert (got.status, got.codes) == (504, ["25001"])
    assert got.errors[0]["meta"]["provider"] == "MESRI"
    assert (await mesri.ask(DATASET, params)).status == 200


async def test_timeout(mesri: RunningProvider, population: Population) -> None:
    await mesri.faults(timeout_rate=1.0, hang_s=1.5)
    try:
        started = time.monotonic()
        got = await mesri.ask(DATASET, {"ine": _person(population, found=True).ine}, budget=0.5)
        spent = time.monotonic() - started
    finally:
        await mesri.faults(reset=True)
    assert (got.status, got.codes) == (504, ["25002"])
    assert spent < 1.5


async def test_transient_outage_is_retried(mesri: RunningProvider, population: Population) -> None:
    await mesri.faults(fail_next=1)
    try:
        got = await mesri.ask(DATASET, {"ine": _person(population, found=True).ine})
    finally:
        await mesri.faults(reset=True)
    assert got.status == 200


FAILURE_CASES: list[tuple[str, int, str]] = [
    ("unknown answer", 502, "25999"),
    ("provider unavailable", 504, "25001"),
    ("identity refused by the provider", 422, "00366"),
]


@pytest.mark.parametrize(
    ("label", "status", "code"), FAILURE_CASES, ids=[f[0] for f in FAILURE_CASES]
)
async def test_a_failure_case_is_reproduced(
    serve_provider: Any, tmp_path: Path, label: str, status: int, code: str
) -> None:
    folder = tmp_path / "api_particulier_v3_mesri_statut_etudiant_with_civility"
    folder.mkdir()
    payload = {"errors": [{"code": code, "title": label, "detail": label, "source": None}]}
    (folder / "case.yaml").write_text(
        yaml.safe_dump({"params": IDENTITY, "status": status, "payload": json.dumps(payload)}),
        encoding="utf-8",
    )
    running: RunningProvider = await serve_provider("mesri", cases=load_cases([tmp_path]))
    got = await running.ask(DATASET, IDENTITY)
    assert (got.status, got.codes) == (status, [code])


BROKEN_ANSWERS: list[tuple[str, httpx.Response]] = [
    ("not json", httpx.Response(200, content=b"maintenance")),
    ("no admissions", httpx.Response(200, json={"etudiant": {"nomNaissance": "A"}})),
    ("admissions not a list", httpx.Response(200, json={"etudiant": {}, "inscriptions": {}})),
    (
        "malformed UAI",
        httpx.Response(
            200, json={"etudiant": {}, "inscriptions": [{"etablissement": {"uai": "PARIS"}}]}
        ),
    ),
    ("anomaly with 200", httpx.Response(200, json={"anomalie": {"code": "ETUDIANT_INCONNU"}})),
    ("unknown anomaly", httpx.Response(409, json={"anomalie": {"code": "AUTRE"}})),
]


@pytest.mark.parametrize(("label", "answer"), BROKEN_ANSWERS, ids=[b[0] for b in BROKEN_ANSWERS])
async def test_a_malformed_answer_is_the_unknown_error(label: str, answer: httpx.Response) -> None:
    upstream = Upstream(
        "mesri", "http://mesri.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    try:
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(None), validate_params(DATASET.params, IDENTITY))
    finally:
        await upstream.aclose()
    assert (caught.value.spec.code, caught.value.status) == ("25999", 502)


# Synthetic population


async def test_the_population_is_found_by_identity_and_by_ine(
    mesri: RunningProvider, population: Population
) -> None:
    found = [p for p in (population.person(i) for i in range(40)) if p.found][:5]
    for person in found:
        by_identity = await mesri.ask(DATASET, person.params())
        by_ine = await mesri.ask(DATASET, {"ine": person.ine})
        assert by_identity.status == by_ine.status == 200
        assert by_identity.data == by_ine.data
        DATASET.data.model_validate(by_identity.data)
        assert by_identity.data["identite"]["nom_naissance"] == person.nom_naissance


async def test_a_known_person_with_another_sex_is_not_found(
    mesri: RunningProvider, population: Population
) -> None:
    person = _person(population, found=True)
    params = {**person.params(), "sexeEtatCivil": "F" if person.sexe == "M" else "M"}
    got = await mesri.ask(DATASET, params)
    assert (got.status, got.codes) == (404, ["25003"])


def test_a_birth_commune_name_is_resolved_to_its_cog_code() -> None:
    raw = {
        **IDENTITY,
        "codeCogInseeCommuneNaissance": None,
        "nomCommuneNaissance": "Gennevilliers",
        "codeCogInseeDepartementNaissance": "92",
    }
    params = validate_params(StudentParams, _clean(raw))
    assert isinstance(params, StudentParams)
    assert query_of(params)["communeNaissance"] == "92036"
    with pytest.raises(ProblemError) as caught:
        validate_params(StudentParams, _clean({**raw, "codeCogInseeDepartementNaissance": "13"}))
    assert caught.value.parameter == "nomCommuneNaissance"
