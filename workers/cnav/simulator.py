"""The CNAV upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from broker.civility import Civility
from broker.simulation import Answer, SimulatorContext, canonical_key, case_answers, respond

from ._dialect import ERRORS, NOT_FOUND, OK, TECHNICAL, UNIDENTIFIABLE, Prestation, request_body
from .datasets import DATASETS, PRESTATIONS

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"codeRetour": NOT_FOUND, "libelle": "Aucun dossier"}),
    "timeout": (504, {"codeRetour": "PASSERELLE_HORS_DELAI"}),
    "unavailable": (503, {"codeRetour": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"codeRetour": "QUOTA"}),
    "unknown": (200, {"codeRetour": TECHNICAL, "libelle": "Erreur technique inattendue"}),
    "code:00366": (422, {"codeRetour": UNIDENTIFIABLE, "libelle": "Identification impossible"}),
}


def _found(prestation: Prestation, data: Any) -> dict[str, Any]:
    return {"codeRetour": OK, "resultat": prestation.renaming.encode(data)}


def _case_answers(ctx: SimulatorContext, name: str) -> dict[tuple[str, str], Answer]:
    """The answers standing for the cases of dataset ``name``, by path and request body."""
    prestation, params = PRESTATIONS[name], DATASETS[name].params
    if not issubclass(params, Civility):
        return {}
    return case_answers(
        ctx.cases_for("cnav", name),
        params,
        key=lambda _, civility: (prestation.path, canonical_key(request_body(civility))),
        success=lambda case: _found(prestation, case.data),
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )


def build_simulator(ctx: SimulatorContext) -> web.Application:
    by_path = {p.path: p for p in PRESTATIONS.values()}
    known: dict[tuple[str, str], Answer] = {}
    for name in PRESTATIONS:
        known.update(_case_answers(ctx, name))

    async def search(request: web.Request) -> web.Response:
        prestation = by_path.get(request.match_info["prestation"])
        if prestation is None:
            return web.json_response({"codeRetour": "PRESTATION_INCONNUE"}, status=404)
        try:
            body = await request.json()
            individu = body["individu"]
        except (ValueError, KeyError, TypeError):
            individu = None
        if not isinstance(individu, dict):
            return web.json_response({"codeRetour": "REQUETE_INVALIDE"}, status=400)
        found = known.get((prestation.path, canonical_key(body)))
        if found is None:
            found = _from_population(ctx, prestation, individu)
        return respond(found)

    app = web.Application()
    app.router.add_post("/v2/prestations/{prestation}/recherche", search)
    return app


def _from_population(
    ctx: SimulatorContext, prestation: Prestation, individu: dict[str, Any]
) -> Answer:
    person = ctx.population.by_name(str(individu.get("nomNaissance") or ""))
    if person is None or not person.found:
        return _FAILURES["not_found"]
    born = str(individu.get("dateNaissance") or "")
    if individu.get("sexe") not in (None, person.sexe):
        return _FAILURES["not_found"]
    if not person.date_naissance.isoformat().startswith(born):
        return _FAILURES["not_found"]
    rng = random.Random(person.seed("cnav." + prestation.name))
    return 200, _found(prestation, prestation.synthesize(person, rng))
