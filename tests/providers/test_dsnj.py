"""DSNJ at provider level: ``dsnj.service_national`` through the simulator over real HTTP.

Every staging case, params validation (the full identity pivot, ``00427`` when the sex is
missing), scope masking, DSNJ's own error codes (staging's, which differ from API Particulier's
defaults), and the synthetic population.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from broker.errors import BROKER, ProblemError
from broker.kit import Upstream, validate_params
from broker.simulation import Person, Population
from workers.dsnj import PROVIDER
from workers.dsnj.service_national import DATASET

from .conftest import (
    RunningProvider,
    assert_scopes_partition,
    outcome_matches,
    reference_scopes,
)

ERRORS = PROVIDER.errors
IDENTITY: dict[str, Any] = {
    "nomNaissance": "MARTIN",
    "prenoms": ["JEAN", "MICHEL"],
    "anneeDateNaissance": 2006,
    "moisDateNaissance": 1,
    "jourDateNaissance": 15,
    "sexeEtatCivil": "M",
    "codeCogInseePaysNaissance": "99100",
    "codeCogInseeCommuneNaissance": "75056",
}


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


@pytest.fixture
async def dsnj(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("dsnj")
    return running


async def test_every_staging_case_passes(dsnj: RunningProvider) -> None:
    cases = dsnj.cases(DATASET)
    assert len(cases) >= 8
    failures = []
    for case in cases:
        got = await dsnj.ask(DATASET, case.params)
        if not outcome_matches(case, got):
            failures.append((case.path.name, got.status, got.codes))
    assert not failures


async def test_example_params_answer_200(dsnj: RunningProvider) -> None:
    got = await dsnj.ask(DATASET, DATASET.example_params)
    assert got.status == 200
    assert got.data["statut_service_national"] == "en_regle"


def test_staging_error_codes() -> None:
    assert (ERRORS.unavailable.code, ERRORS.unavailable.status) == ("39002", 502)
    assert ERRORS.unavailable.title == "Erreur serveur"
    assert (ERRORS.timeout.code, ERRORS.timeout.status) == ("39005", 504)
    assert ERRORS.timeout.title == "Temps d'attente dépassé"
    assert (ERRORS.rate_limited.code, ERRORS.rate_limited.status) == ("39004", 429)
    assert ERRORS.rate_limited.title == "Quota dépassé"
    assert (ERRORS.not_found.code, ERRORS.unknown.code) == ("39003", "39999")
    refused = ERRORS.by_code("39001")
    assert refused is not None
    assert (refused.status, refused.title, refused.provider) == (403, "Accès refusé", "DSNJ")
    assert len({spec.code for spec in ERRORS}) == len(list(ERRORS))


@pytest.mark.parametrize(
    ("change", "code", "parameter"),
    [
        ({"sexeEtatCivil": None}, "00427", "sexeEtatCivil"),
        ({"sexeEtatCivil": "X"}, "00366", "sexeEtatCivil"),
        ({"nomNaissance": None}, "00366", "nomNaissance"),
        ({"nomNaissance": ""}, "00366", "nomNaissance"),
        ({"prenoms": None}, "00366", "prenoms"),
        ({"prenoms": []}, "00366", "prenoms"),
        ({"anneeDateNaissance": None}, "00366", "anneeDateNaissance"),
        ({"moisDateNaissance": None}, "00366", "moisDateNaissance"),
        ({"jourDateNaissance": None}, "00366", "jourDateNaissance"),
        ({"moisDateNaissance": 13}, "00366", "moisDateNaissance"),
        ({"jourDateNaissance": 30, "moisDateNaissance": 2}, "00366", "jourDateNaissance"),
        ({"codeCogInseePaysNaissance": None}, "00366", "codeCogInseePaysNaissance"),
        ({"codeCogInseePaysNaissance": "FR"}, "00366", "codeCogInseePaysNaissance"),
        ({"codeCogInseeCommuneNaissance": None}, "00366", "codeCogInseeCommuneNaissance"),
        ({"codeCogInseeCommuneNaissance": "7505"}, "00366", "codeCogInseeCommuneNaissance"),
    ],
)
def test_params_validation(change: dict[str, Any], code: str, parameter: str) -> None:
    raw = {k: v for k, v in {**IDENTITY, **change}.items() if v is not None}
    with pytest.raises(ProblemError) as caught:
        validate_params(DATASET.params, raw)
    assert caught.value.spec.code == code
    assert caught.value.error()["source"] == {"parameter": parameter}
    if code == "00427":
        assert caught.value.spec == BROKER.SEX_MISSING


def test_valid_params() -> None:
    abroad = {**IDENTITY, "codeCogInseePaysNaissance": "99134"}
    del abroad["codeCogInseeCommuneNaissance"]
    validate_params(DATASET.params, abroad)
    query_style = {**IDENTITY, "prenoms[]": IDENTITY["prenoms"], "recipient": "13002526500013"}
    del query_style["prenoms"]
    parsed = validate_params(DATASET.params, query_style)
    assert parsed == validate_params(DATASET.params, IDENTITY)
    assert (
        validate_params(DATASET.params, {**IDENTITY, "sexeEtatCivil": "m"}).model_dump()[
            "sexeEtatCivil"
        ]
        == "M"
    )


async def test_scopes(dsnj: RunningProvider) -> None:
    listed = reference_scopes("dsnj/service_national_with_civility")
    if listed is not None:
        assert set(DATASET.scopes) == listed
    data = next(c.data for c in dsnj.cases(DATASET) if c.status == 200)
    assert_scopes_partition(DATASET, data)
    assert DATASET.mask(data, frozenset({"dsnj_statut_service_national"})) == data
    assert DATASET.mask(data, frozenset({"cnaf_adresse"})) == {}


async def test_synthetic_population(dsnj: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    got = await dsnj.ask(DATASET, person.params())
    assert got.status == 200
    DATASET.data.model_validate(got.data)
    assert (await dsnj.ask(DATASET, person.params())).data == got.data
    missing = _person(population, found=False)
    got = await dsnj.ask(DATASET, missing.params())
    assert (got.status, got.codes) == (404, ["39003"])
    assert got.errors[0]["meta"] == {"provider": "DSNJ"}
    other_day = {**person.params(), "jourDateNaissance": person.date_naissance.day % 28 + 1}
    assert (await dsnj.ask(DATASET, other_day)).codes == ["39003"]


async def test_the_simulator_speaks_its_own_dialect(dsnj: RunningProvider) -> None:
    async with httpx.AsyncClient(base_url=f"{dsnj.base_url}/dsnj/") as client:
        answer = await client.post("api/v1/jeunes/situation", json={"jeune": {"nomNaissance": "X"}})
        bad = await client.post("api/v1/jeunes/situation", json={"personne": {}})
    assert (answer.status_code, answer.json()["erreur"]["code"]) == (404, "JEUNE_INCONNU")
    assert bad.status_code == 400


async def test_provider_down(dsnj: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await dsnj.faults(down=True)
    try:
        got = await dsnj.ask(DATASET, person.params())
    finally:
        await dsnj.faults(reset=True)
    assert (got.status, got.codes) == (502, ["39002"])
    assert got.errors[0]["title"] == "Erreur serveur"


async def test_timeout(dsnj: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await dsnj.faults(timeout_rate=1.0, hang_s=3.0)
    started = time.monotonic()
    try:
        got = await dsnj.ask(DATASET, person.params(), budget=1.0)
    finally:
        await dsnj.faults(reset=True)
    assert (got.status, got.codes) == (504, ["39005"])
    assert time.monotonic() - started < 2.5


async def test_rate_limited(dsnj: RunningProvider, population: Population) -> None:
    person = _person(population, found=True)
    await dsnj.faults(rate_limit_rate=1.0)
    try:
        got = await dsnj.ask(DATASET, person.params())
    finally:
        await dsnj.faults(reset=True)
    assert (got.status, got.codes) == (429, ["39004"])
    assert got.errors[0]["title"] == "Quota dépassé"


async def _fetch_with(answer: httpx.Response) -> ProblemError:
    upstream = Upstream(
        "dsnj", "http://dsnj.invalid/", ERRORS, transport=httpx.MockTransport(lambda _r: answer)
    )
    params = validate_params(DATASET.params, IDENTITY)
    try:
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(None), params)
    finally:
        await upstream.aclose()
    return caught.value


async def test_partner_refused() -> None:
    error = await _fetch_with(
        httpx.Response(403, json={"erreur": {"code": "PARTENAIRE_NON_HABILITE"}})
    )
    assert (error.status, error.spec.code) == (403, "39001")
    assert error.error()["meta"] == {"provider": "DSNJ"}


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="maintenance"),
        httpx.Response(200, json={"situationServiceNational": {"statut": "EXEMPTE"}}),
        httpx.Response(200, json={"autre": {}}),
        httpx.Response(403, json={"erreur": {"code": "AUTRE"}}),
        httpx.Response(400, json=["erreur"]),
    ],
)
async def test_unknown_answer(answer: httpx.Response) -> None:
    error = await _fetch_with(answer)
    assert (error.status, error.spec.code) == (502, "39999")
