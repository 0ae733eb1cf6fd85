"""DGFIP's quirks: no staging case any more, so the project's cases in
``tests/conformance/dgfip/`` play that part; households of one or two declarants; and its own
upstream dialect. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from broker.simulation import Population, load_cases
from workers.dgfip.simulator import reference_avis_of
from workers.dgfip.situation_fiscale import DATASET

from ._data import BASE
from .conftest import RunningProvider, assert_scopes_partition

CASES_DIR = Path(__file__).resolve().parents[1] / "conformance" / "dgfip"
VALID = BASE["dgfip"]


def test_the_broker_loads_the_project_cases() -> None:
    loaded = [c for c in load_cases([CASES_DIR]) if c.is_provider("dgfip")]
    assert {c.dataset_name("dgfip") for c in loaded} == {"situation_fiscale"}
    assert {c.pivot for c in loaded} == {"numero_fiscal"}
    assert len(loaded) >= 8


def test_the_project_cases_cover_the_required_kinds() -> None:
    cases = load_cases([CASES_DIR])
    assert len(cases) >= 8
    found = [c for c in cases if c.status == 200]
    assert any(c.data["declarant2"] is None for c in found)
    assert any(c.data["declarant2"] is not None for c in found)
    assert any(c.data["nombre_personnes_a_charge"] > 0 for c in found)
    assert any(len(c.params["referenceAvis"]) == 14 for c in found)
    codes = {code for c in cases for code in c.error_codes}
    assert {"27003", "00370", "27001", "27002"} <= codes


def test_a_declarant_s_scopes_unmask_their_own_fields_only() -> None:
    found = [c.data for c in load_cases([CASES_DIR]) if c.status == 200]
    couple = next(data for data in found if data["declarant2"] is not None)
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
    single = next(data for data in found if data["declarant2"] is None)
    assert DATASET.mask(single, frozenset({"dgfip_declarant2_nom"})) == {"declarant2": None}


async def test_synthetic_households_vary(serve_provider: Any, population: Population) -> None:
    dgfip: RunningProvider = await serve_provider("dgfip")
    kinds = set()
    for person in list(population)[:60]:
        if person.found:
            params = {
                "numeroFiscal": person.numero_fiscal,
                "referenceAvis": reference_avis_of(person),
            }
            data = (await dgfip.ask(DATASET, params)).data
            kinds.add((data["declarant2"] is None, data["nombre_personnes_a_charge"] > 0))
            parts = 1.0 if data["declarant2"] is None else 2.0
            assert data["nombre_parts"] >= parts
            assert data["annee_revenus"] == data["annee_impots"] - 1
    assert {(True, False), (False, False), (False, True)} <= kinds


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    dgfip: RunningProvider = await serve_provider("dgfip")
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
