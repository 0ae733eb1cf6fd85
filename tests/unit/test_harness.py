"""The in-memory harness runs the worker's own pipeline and sealing without RabbitMQ or
PostgreSQL: what a dataset's unit test and an integrator's own tests use."""

from __future__ import annotations

import asyncio

from broker.simulation import Population
from broker.simulation.harness import Harness

DATASET = "cnav.quotient_familial"
PEOPLE = Population(1_000_000)


def _person(found: bool) -> dict[str, object]:
    return next(p for p in map(PEOPLE.person, range(200)) if p.found is found).params()


async def test_a_granted_request_is_answered_signed_and_journaled() -> None:
    async with Harness(providers=["cnav"]) as harness:
        reply = await harness.request(DATASET, _person(found=True))
    assert reply.status == 200, reply.errors
    assert reply.data is not None and reply.data["quotient_familial"]["valeur"] > 0
    assert reply.meta.provider == "CNAV" and reply.proof
    [row] = harness.journal
    assert (row.dataset, row.status, row.requester, row.cached) == (DATASET, 200, "agency", False)
    assert row.subject and row.scopes == tuple(sorted(reply.meta.scopes or ()))


async def test_scopes_mask_and_refusals_are_the_workers_own() -> None:
    grants = {"town": {DATASET: ["cnaf_quotient_familial"]}}
    async with Harness(grants, providers=["cnav"]) as harness:
        masked = await harness.request(DATASET, _person(found=True), requester="town")
        refused = await harness.request(DATASET, _person(found=True), requester="stranger")
        unknown = await harness.request(DATASET, _person(found=False), requester="town")
    assert masked.data is not None and set(masked.data) == {"quotient_familial"}
    assert (refused.status, [e.code for e in refused.errors]) == (403, ["00100"])
    assert unknown.status == 404  # the DSS names the organism lacking the file
    assert [e.code for e in unknown.errors] in (["10003"], ["23003"], ["35003"])
    assert [row.status for row in harness.journal] == [200, 403, 404]


async def test_identical_requests_in_flight_share_one_upstream_call() -> None:
    """Two agencies asking about the same person at the same time cost one upstream call;
    each is masked by its own habilitation and journaled on its own. Asked again once the call
    has landed, the upstream is asked again."""
    grants = {
        "town": {DATASET: ["cnaf_quotient_familial"]},
        "ccas": {DATASET: ["cnaf_allocataires", "cnaf_enfants"]},
    }
    person = _person(found=True)
    async with Harness(grants, providers=["cnav"]) as harness:
        harness.context.faults_of("cnav").latency_ms = 300
        town, ccas, *copies = await asyncio.gather(
            harness.request(DATASET, person, requester="town"),
            harness.request(DATASET, person, requester="ccas"),
            *(harness.request(DATASET, person, requester="town") for _ in range(3)),
        )
        during = harness.context.received["cnav"]
        await harness.request(DATASET, person, requester="town")
        after = harness.context.received["cnav"]
    assert (during, after) == (1, 2)
    assert town.data is not None and set(town.data) == {"quotient_familial"}
    assert ccas.data is not None and set(ccas.data) == {"allocataires", "enfants"}
    assert all(c.data == town.data for c in copies)
    assert [row.requester for row in harness.journal].count("town") == 5
    assert len({row.message_id for row in harness.journal}) == 6


async def test_a_shared_call_that_fails_fails_each_request_with_its_code() -> None:
    person = _person(found=True)
    async with Harness(providers=["cnav"]) as harness:
        harness.context.faults_of("cnav").down = True
        replies = await asyncio.gather(*(harness.request(DATASET, person) for _ in range(4)))
        asked = harness.context.received["cnav"]
    assert {(r.status, r.errors[0].code) for r in replies} == {(504, "37001")}
    assert asked <= 3  # one call and its retries, not one per request
