"""SDH's quirks: the ``37xxx`` codes staging answers for SDH (see ``workers/sdh/_upstream.py``)
beside its own ``41xxx``, athletes' previous records, and its upstream dialect. The common
behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.simulation import Population
from workers.sdh import PROVIDER
from workers.sdh.simulator import identifiant_of
from workers.sdh.statut_sportif import DATASET

from ._data import SAMPLE_RECORDS
from .conftest import RunningProvider, assert_scopes_partition

ERRORS = PROVIDER.errors
ATHLETE = SAMPLE_RECORDS["sdh"][0]


def test_error_codes() -> None:
    assert (ERRORS.timeout.code, ERRORS.not_found.code, ERRORS.unknown.code) == (
        "37002",
        "37003",
        "37999",
    )
    assert (ERRORS.unavailable.code, ERRORS.rate_limited.code) == ("41001", "41008")
    assert {spec.provider for spec in ERRORS} == {"SDH"}


async def test_an_athlete_s_previous_records_are_masked_by_their_scope(
    serve_provider: Any, population: Population
) -> None:
    sdh: RunningProvider = await serve_provider("sdh")
    only = DATASET.mask(ATHLETE, frozenset({"sdh_statut_sportif_identite"}))
    assert only == {"identite": ATHLETE["identite"]}
    for person in list(population)[:40]:
        if person.found:
            got = await sdh.ask(DATASET, {"identifiant": identifiant_of(person)})
            if got.data["informations_statuts_precedents"]:
                assert_scopes_partition(DATASET, got.data)
                break
    else:
        pytest.fail("no synthetic athlete with previous records")


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    sdh: RunningProvider = await serve_provider("sdh")
    async with httpx.AsyncClient(base_url=f"{sdh.base_url}/sdh/") as client:
        answer = await client.get("v2/sportifs/12345")
        unknown = await client.get("v2/sportifs/7")
    assert {"sportif", "ficheEnCours", "fichesAnterieures"} <= set(answer.json())
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SPORTIF_INCONNU")
