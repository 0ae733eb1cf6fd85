"""CNOUS's quirks: an INE pivot beside the identity, its own upstream dialect (v1 by INE, v2
searched by identity) and birth communes given by name. The common behaviour is in
``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx

from broker.kit import validate_params
from workers.cnous._upstream import APIS, StudentParams, request_of

from ._data import BASE
from .conftest import RunningProvider

IDENTITY = BASE["cnous"]


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    cnous: RunningProvider = await serve_provider("cnous")
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


def test_the_ine_alone_is_the_subject_and_the_path() -> None:
    params = validate_params(StudentParams, {"ine": "1234567890a", "nomNaissance": "X"})
    assert isinstance(params, StudentParams)
    assert params.ine == "1234567890A"
    assert params.subject() == {"ine": "1234567890A"}
    assert request_of("v1", params).path == "v1/etudiants/1234567890A"
    identity = validate_params(StudentParams, IDENTITY)
    assert "ine" not in identity.subject()


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
