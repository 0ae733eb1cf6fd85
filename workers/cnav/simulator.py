"""The CNAV upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from broker.civility import Civility
from broker.simulation import Case, SimulatorContext, canonical_key

from ._dialect import ERRORS, NOT_FOUND, OK, TECHNICAL, UNIDENTIFIABLE, Prestation, request_body
from .datasets import DATASETS, PRESTATIONS

_FAILURES: dict[str, tuple[int, dict[str, Any]]] = {
    "not_found": (404, {"codeRetour": NOT_FOUND, "libelle": "Aucun dossier"}),
    "timeout": (504, {"codeRetour": "PASSERELLE_HORS_DELAI"}),
    "unavailable": (503, {"codeRetour": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"codeRetour": "QUOTA"}),
    "unknown": (200, {"codeRetour": TECHNICAL, "libelle": "Erreur technique inattendue"}),
    "code:00366": (422, {"codeRetour": UNIDENTIFIABLE, "libelle": "Identification impossible"}),
}


def _answer(prestation: Prestation, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"codeRetour": OK, "resultat": prestation.renaming.encode(data)}


def _case_data(case: Case) -> Any:
    """A 200 case's data; some older case files hold the data without its envelope."""
    if "data" in case.payload:
        return case.data
    return {k: v for k, v in case.payload.items() if k not in ("links", "meta")}


def build_simulator(ctx: SimulatorContext) -> web.Application:
    by_path = {p.path: p for p in PRESTATIONS.values()}
    known: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for case in ctx.cases_of("cnav"):
        name = case.dataset_name("cnav")
        if name not in PRESTATIONS:
            continue
        prestation, dataset = PRESTATIONS[name], DATASETS[name]
        try:
            params = dataset.params.model_validate(case.params)
        except ValidationError:
            continue
        if not isinstance(params, Civility):
            continue
        answer = (
            _answer(prestation, _case_data(case))
            if case.status == 200
            else _FAILURES.get(case.failure(ERRORS), _FAILURES["unknown"])
        )
        known[(prestation.path, canonical_key(request_body(params)))] = answer

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
        status, payload = found
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_post("/v2/prestations/{prestation}/recherche", search)
    return app


def _from_population(
    ctx: SimulatorContext, prestation: Prestation, individu: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    person = ctx.population.by_name(str(individu.get("nomNaissance") or ""))
    if person is None or not person.found:
        return _FAILURES["not_found"]
    born = str(individu.get("dateNaissance") or "")
    if individu.get("sexe") not in (None, person.sexe):
        return _FAILURES["not_found"]
    if not person.date_naissance.isoformat().startswith(born):
        return _FAILURES["not_found"]
    rng = random.Random(person.seed("cnav." + prestation.name))
    return _answer(prestation, prestation.synthesize(person, rng))
