"""Every FranceConnect-mode staging case through the broker (``shared/france-connect``): a token
is minted at the FranceConnect simulator for the case's identity with every scope of the
dataset, and the request carries that token and the dataset's own parameters only."""

from __future__ import annotations

from typing import Any

import pytest

from broker import registry
from broker.france_connect import IDENTITY_PARAMETERS, claims_of
from broker.sdk import Client
from broker.simulation import Case, france_connect_cases_dirs, load_cases
from broker.simulation.france_connect import mint_token

from ..conftest import extra_case_dirs
from .test_conformance import ACCESS_CHECKS, SIRET, assert_answers, dataset_of

CASES = [
    c
    for c in load_cases([*france_connect_cases_dirs(), *extra_case_dirs()])
    if c.pivot == "france_connect"
]
"""The shared FranceConnect-mode cases, and those of any folder in ``PARTICULIER_CASES``."""
NOBODY = {"nomNaissance": "PERSONNE", "prenoms": ["INCONNUE"]}
"""The citizen of a case that names none (a failing ANTS case): someone no provider knows."""
KNOWN_GAPS: dict[str, str] = {}
"""Staging cases the broker does not answer as staging does yet (issue 13), each with why. They
run as strict expected failures: one that starts passing fails the run until it leaves this
table."""


def _id(case: Case) -> str:
    return f"v{case.version}-{case.endpoint}/{case.path.name}"


async def _token(simulator: Any, dataset_id: str, version: int, identity: dict[str, Any]) -> str:
    dataset = registry.dataset(dataset_id, version)
    assert dataset is not None and dataset.france_connect
    claims = {**claims_of(identity), "scope": " ".join(["openid", *dataset.scopes])}
    return await mint_token(f"{simulator.url}/france_connect", claims)


def _param(case: Case) -> Any:
    gap = KNOWN_GAPS.get(_id(case))
    marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
    return pytest.param(case, id=_id(case), marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
async def test_france_connect_case(case: Case, client: Client, simulator: Any) -> None:
    if set(case.error_codes) & ACCESS_CHECKS:
        pytest.skip("API Particulier's own access check (token or quota), not a provider answer")
    dataset_id = dataset_of(case)
    identity = case.citizen or NOBODY
    own = {k: v for k, v in case.params.items() if k not in IDENTITY_PARAMETERS}
    token = await _token(simulator, dataset_id, case.version, identity)
    reply = await client.request(
        dataset_id,
        own,
        recipient=SIRET,
        version=case.version,
        france_connect_token=token,
        timeout=30,
    )
    assert_answers(reply, case)
    if "identity_matching" in case.payload.get("meta", {}):
        matching = reply.body.meta.identity_matching
        assert matching is not None
        assert matching.model_dump() == case.payload["meta"]["identity_matching"]


def test_the_france_connect_sample_is_there() -> None:
    """The runner found the shared FranceConnect cases, ANTS's among them."""
    assert len(CASES) >= 50
    assert set(KNOWN_GAPS) <= {_id(c) for c in CASES}
    assert any(c.is_provider("ants") for c in CASES)
