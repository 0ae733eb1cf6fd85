"""Every conformance case through the broker: status, ``data`` field for field, error codes.

Cases come from the shared staging folder, the project's own folders under
``tests/conformance/``, and any folder listed in ``PARTICULIER_CASES`` (``:``-separated): a new
folder of cases in the same format runs without changing code.
"""

from __future__ import annotations

import pytest

from broker import registry
from broker.sdk import Client, Reply
from broker.simulation import Case, default_cases_dirs, load_cases

from ..conftest import extra_case_dirs

SIRET = "13002526500013"
ACCESS_CHECKS = {"00100", "00429"}
"""API Particulier's own token and quota refusals: tested with habilitations, not here."""

SKIPPED: list[str] = []


def dataset_of(case: Case) -> str:
    for name in sorted(registry.providers(), key=len, reverse=True):
        if case.is_provider(name):
            return f"{name}.{case.dataset_name(name)}"
    raise LookupError(f"no provider serves {case.endpoint}")


def _cases() -> list[Case]:
    """Identity-mode cases (FranceConnect-mode ones run in ``test_france_connect_conformance``)."""
    found = load_cases([*default_cases_dirs(), *extra_case_dirs()])
    return [c for c in found if c.pivot != "france_connect"]


def _id(case: Case) -> str:
    return f"v{case.version}-{case.endpoint}-{case.pivot}/{case.path.name}"


ALL_CASES = _cases()


@pytest.mark.parametrize("case", ALL_CASES, ids=[_id(c) for c in ALL_CASES])
async def test_case(case: Case, client: Client) -> None:
    if set(case.error_codes) & ACCESS_CHECKS:
        SKIPPED.append(_id(case))
        pytest.skip("API Particulier's own access check (token or quota), not a provider answer")
    reply = await client.request(
        dataset_of(case), case.params, recipient=SIRET, version=case.version, timeout=30
    )
    assert_answers(reply, case)


def assert_answers(reply: Reply, case: Case) -> None:
    """The reply answers as staging did: status, ``data`` field for field, error codes."""
    assert reply.status == case.status, [e.code for e in reply.body.errors]
    if case.status == 200:
        assert reply.data == case.data
    else:
        assert [e.code for e in reply.body.errors] == case.error_codes
        assert reply.data is None


def test_the_sample_is_there() -> None:
    """The runner found the shared staging cases (a missing folder must not pass silently)."""
    assert len([c for c in ALL_CASES if "shared" in c.path.parts]) >= 200
