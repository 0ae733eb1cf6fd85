"""The DGFIP upstream simulator: conformance cases first, then the synthetic population.

API Particulier has no staging cases for this dataset any more: the project's own cases live in
``tests/conformance/dgfip/`` and reach the simulator like any other folder of cases.
"""

from __future__ import annotations

import random

from aiohttp import web

from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import (
    ERRORS,
    NOTICE_UNKNOWN,
    REFERENCE_REJECTED,
    SPI_REJECTED,
    TAX_NOTICE_INVALID,
    TAX_NUMBER_INVALID,
    SituationFiscaleParams,
    request_body,
)
from .situation_fiscale import DATASET, PATH, encode, person_of, synthesize

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"code": NOTICE_UNKNOWN, "libelle": "Aucun avis pour ce couple"}),
    "timeout": (504, {"code": "DELAI_DEPASSE"}),
    "unavailable": (503, {"code": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"code": "VOLUMETRIE_DEPASSEE"}),
    "unknown": (200, {"code": "OK", "situationIr": "ILLISIBLE"}),
    f"code:{TAX_NUMBER_INVALID.code}": (400, {"code": SPI_REJECTED}),
    f"code:{TAX_NOTICE_INVALID.code}": (400, {"code": REFERENCE_REJECTED}),
}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("dgfip", DATASET.name, {DATASET.version}),
        SituationFiscaleParams,
        key=lambda _, params: canonical_key(request_body(params)),
        success=lambda case: encode(case.data),
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )

    async def recherche(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            spi, reference = str(body["spi"]), str(body["referenceAvis"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"code": "REQUETE_INVALIDE"}, status=400)
        return respond(known.get(canonical_key(body)) or _from_population(ctx, spi, reference))

    app = web.Application()
    app.router.add_post(f"/{PATH}", recherche)
    return app


def _from_population(ctx: SimulatorContext, spi: str, reference: str) -> Answer:
    if not (spi.isdigit() and len(spi) == 13):
        return _FAILURES[f"code:{TAX_NUMBER_INVALID.code}"]
    person = person_of(ctx.population, spi, reference)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    data = synthesize(person, random.Random(person.seed("dgfip.situation_fiscale")))
    return 200, encode(data)
