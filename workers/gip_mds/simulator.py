"""The GIP-MDS upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from broker.errors import BROKER
from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import ERRORS, GipMdsCivility, request_body
from .service_civique import DATASET, NO_CONTRACT, PATH, encode, synthesize

_HOMONYM = encode({"statut_actuel": NO_CONTRACT, "statut_passe": NO_CONTRACT})
_FAILURES: dict[str, Answer] = {
    "not_found": (200, {"individus": []}),
    "timeout": (504, {"anomalie": "DELAI_DEPASSE"}),
    "unavailable": (503, {"anomalie": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"anomalie": "TROP_DE_REQUETES"}),
    "unknown": (200, {"anomalie": "ERREUR_TECHNIQUE"}),
    f"code:{BROKER.AMBIGUOUS_IDENTITY.code}": (200, {"individus": [_HOMONYM, _HOMONYM]}),
}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for("gip_mds", DATASET.name, {DATASET.version}),
        GipMdsCivility,
        key=lambda _, params: canonical_key(request_body(params)),
        success=lambda case: {"individus": [encode(case.data)]},
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )

    async def recherche(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"anomalie": "REQUETE_INVALIDE"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"anomalie": "REQUETE_INVALIDE"}, status=400)
        return respond(known.get(canonical_key(body)) or _from_population(ctx, body))

    app = web.Application()
    app.router.add_post(f"/{PATH}", recherche)
    return app


def _from_population(ctx: SimulatorContext, body: dict[str, Any]) -> Answer:
    person = ctx.population.by_name(str(body.get("nomFamille") or ""))
    if (
        person is None
        or not person.found
        or body.get("dateNaissance") != person.date_naissance.isoformat()
    ):
        return _FAILURES["not_found"]
    data = synthesize(person, random.Random(person.seed("gip_mds.service_civique")))
    return 200, {"individus": [encode(data)]}
