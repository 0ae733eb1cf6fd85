"""MESRI's quirks: its register takes one first name, an INE pivot, birth communes given by
name, and its own upstream dialect. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.errors import ProblemError
from broker.kit import validate_params
from workers.mesri._upstream import StudentParams, query_of

from ._data import BASE
from .conftest import RunningProvider

IDENTITY = BASE["mesri"]


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    mesri: RunningProvider = await serve_provider("mesri")
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


def test_the_register_takes_one_first_name() -> None:
    params = validate_params(StudentParams, {**IDENTITY, "prenoms": ["Marc", "Antoine"]})
    assert isinstance(params, StudentParams)
    assert query_of(params)["prenom"] == "Marc"
    ine = validate_params(StudentParams, {"ine": "655888578ae"})
    assert isinstance(ine, StudentParams)
    assert query_of(ine) == {"ine": "655888578AE"}
    assert ine.subject() == {"ine": "655888578AE"}


def test_a_birth_commune_name_is_resolved_to_its_cog_code() -> None:
    raw = {
        **{k: v for k, v in IDENTITY.items() if k != "codeCogInseeCommuneNaissance"},
        "nomCommuneNaissance": "Gennevilliers",
        "codeCogInseeDepartementNaissance": "92",
    }
    params = validate_params(StudentParams, raw)
    assert isinstance(params, StudentParams)
    assert query_of(params)["communeNaissance"] == "92036"
    with pytest.raises(ProblemError) as caught:
        validate_params(StudentParams, {**raw, "codeCogInseeDepartementNaissance": "13"})
    assert caught.value.parameter == "nomCommuneNaissance"
