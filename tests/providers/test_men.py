"""MEN's quirks: a pupil is searched in one school (GET) or in an area (POST), in its own
upstream dialect. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx

from broker.kit import validate_params
from broker.simulation import Population
from workers.men._upstream import SchoolingParams, request_of

from ._data import BASE
from .conftest import RunningProvider

PUPIL = BASE["men"]
AREA = {"degreEtablissement": "2D", "codesBcnDepartements": ["013"]}


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    men: RunningProvider = await serve_provider("men")
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
    in_area = {k: v for k, v in PUPIL.items() if k != "codeEtablissement"} | AREA
    area = validate_params(SchoolingParams, in_area)
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


async def test_a_pupil_searched_in_a_school_is_answered_with_that_school(
    serve_provider: Any, population: Population
) -> None:
    men: RunningProvider = await serve_provider("men")
    found = [p for p in (population.person(i) for i in range(40)) if p.found][:5]
    for version in (3, 4):
        dataset = men.dataset("men.scolarites", version)
        for person in found:
            params = {**person.params(), "anneeScolaire": "2025", "codeEtablissement": "0750652B"}
            got = await men.ask(dataset, params)
            assert got.data["etablissement"]["code_uai"] == "0750652B"
