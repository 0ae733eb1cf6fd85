"""CNAV's quirks: eight benefits behind one DSS route shape, its own upstream dialect, orphan
birth-date parts, and a refused civility. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.errors import BROKER
from broker.kit import Dataset, validate_params
from broker.simulation import Population
from workers.cnav import PROVIDER
from workers.cnav._benefits import BenefitCivility
from workers.cnav._upstream import request_body

from ._data import BASE
from .conftest import RunningProvider

DATASETS = {d.id: d for d in PROVIDER.datasets}
IDENTITY = BASE["cnav"]


@pytest.fixture
async def cnav(serve_provider: Any) -> RunningProvider:
    running: RunningProvider = await serve_provider("cnav")
    return running


def test_every_benefit_is_a_dss_route_asked_from_the_prestations_api() -> None:
    for dataset in PROVIDER.datasets:
        assert dataset.version == 3
        assert dataset.route == f"/v3/dss/{dataset.name}/identite"
        example = validate_params(dataset.params, dataset.example_params)
        assert dataset.endpoint.request(example).path.startswith("v2/prestations/")


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


def test_orphan_date_parts_are_not_sent_upstream() -> None:
    orphan = {k: v for k, v in IDENTITY.items() if k != "anneeDateNaissance"}
    params = validate_params(BenefitCivility, orphan)
    assert isinstance(params, BenefitCivility)
    assert params.birth_date_text() is None
    assert params.moisDateNaissance is None and params.jourDateNaissance is None
    year_only = {k: v for k, v in IDENTITY.items() if k != "moisDateNaissance"}
    partial = validate_params(BenefitCivility, year_only)
    assert isinstance(partial, BenefitCivility)
    assert partial.birth_date_text() == "1980"


@pytest.mark.parametrize("dataset_id", sorted(DATASETS))
async def test_a_staging_answer_cnav_could_not_read_is_the_unknown_error(
    cnav: RunningProvider, dataset_id: str
) -> None:
    dataset = cnav.dataset(dataset_id)
    case = next(c for c in cnav.cases(dataset) if c.status == 502)
    got = await cnav.ask(dataset, case.params)
    assert (got.status, got.codes) == (502, ["37999"])


async def test_an_unidentifiable_person_is_an_invalid_civility(cnav: RunningProvider) -> None:
    dataset = cnav.dataset("cnav.complementaire_sante_solidaire")
    case = next(c for c in cnav.cases(dataset) if c.status == 422)
    got = await cnav.ask(dataset, case.params)
    assert (got.status, got.codes) == (422, ["00366"])
    assert got.errors[0]["code"] == BROKER.CIVILITY_INVALID.code


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


EXPECTED_ABSENCES = {
    "cnav.complementaire_sante_solidaire": {("40003", "RNCPS")},
    "cnav.participation_familiale_eaje": {("37003", "CNAV")},
}
"""Where a DSS route's not-found does not name the CNAF or the MSA (OpenAPI: C2S asks the
RNCPS; EAJE says only that no file exists)."""
CNAF_OR_MSA = {("10003", "MSA"), ("23003", "CNAF"), ("35003", "CNAF & MSA")}


@pytest.mark.parametrize("dataset_id", sorted(DATASETS))
async def test_the_not_found_names_the_organism_lacking_the_file(
    cnav: RunningProvider, dataset_id: str
) -> None:
    """People known to no organism get the code of the organism the DSS says it asked, as API
    Particulier's OpenAPI documents them, with that organism as ``meta.provider``; a name the
    DSS cannot place at all is the CNAV's own ``37003``."""
    dataset = cnav.dataset(dataset_id)
    unknown = [p for p in map(Population(20_000).person, range(400)) if not p.found][:12]
    answered = set()
    for person in unknown:
        got = await cnav.ask(dataset, person.params())
        assert got.status == 404, got.codes
        answered.add((got.codes[0], got.errors[0]["meta"]["provider"]))
    assert answered == EXPECTED_ABSENCES.get(dataset_id, CNAF_OR_MSA)
    nobody = await cnav.ask(dataset, {**IDENTITY, "nomNaissance": "INCONNU"})
    assert (nobody.status, nobody.codes) == (404, ["37003"])
