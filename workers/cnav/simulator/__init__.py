"""The CNAV upstream simulator: staging cases first, then the synthetic population."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from broker.kit import Dataset, Endpoint, UpstreamRequest, validate_params
from broker.simulation import Answer, SimulatorContext, respond

from .._upstream import ERRORS, NOT_FOUND, UNIDENTIFIABLE, path_of
from ..datasets import DATASETS
from ._synthesis import SYNTHESIZERS

TECHNICAL = "ERREUR_TECHNIQUE"

_FAILURES: dict[str, Answer] = {
    "not_found": (404, {"codeRetour": NOT_FOUND, "libelle": "Aucun dossier"}),
    "timeout": (504, {"codeRetour": "PASSERELLE_HORS_DELAI"}),
    "unavailable": (503, {"codeRetour": "SERVICE_INDISPONIBLE"}),
    "rate_limited": (429, {"codeRetour": "QUOTA"}),
    "unknown": (200, {"codeRetour": TECHNICAL, "libelle": "Erreur technique inattendue"}),
    "code:00366": (422, {"codeRetour": UNIDENTIFIABLE, "libelle": "Identification impossible"}),
}


def _endpoint(dataset: Dataset) -> Endpoint[Any]:
    if dataset.endpoint is None:
        raise LookupError(f"{dataset.id} declares no endpoint")
    return dataset.endpoint


def _path(dataset: Dataset) -> str:
    """The upstream path the dataset's endpoint posts to, whoever is searched."""
    example = validate_params(dataset.params, dataset.example_params)
    return _endpoint(dataset).request(example).path


def build_simulator(ctx: SimulatorContext) -> web.Application:
    by_path = {_path(d): d for d in DATASETS.values()}
    known: dict[str, Answer] = {}
    for dataset in DATASETS.values():
        known.update(ctx.known_answers(dataset, _FAILURES, ERRORS, otherwise=_FAILURES["unknown"]))

    async def search(request: web.Request) -> web.Response:
        path = path_of(request.match_info["prestation"])
        dataset = by_path.get(path)
        if dataset is None:
            return web.json_response({"codeRetour": "PRESTATION_INCONNUE"}, status=404)
        try:
            body = await request.json()
            individu = body["individu"]
        except (ValueError, KeyError, TypeError):
            individu = None
        if not isinstance(individu, dict):
            return web.json_response({"codeRetour": "REQUETE_INVALIDE"}, status=400)
        found = known.get(UpstreamRequest("POST", path, body=body).key())
        return respond(found or _from_population(ctx, dataset, individu))

    app = web.Application()
    app.router.add_post("/v2/prestations/{prestation}/recherche", search)
    return app


def _from_population(ctx: SimulatorContext, dataset: Dataset, individu: dict[str, Any]) -> Answer:
    person = ctx.population.by_name(str(individu.get("nomNaissance") or ""))
    if person is None:
        return _FAILURES["not_found"]
    if not person.found:
        return _absent(dataset, random.Random(person.seed(dataset.id)))
    born = str(individu.get("dateNaissance") or "")
    if individu.get("sexe") not in (None, person.sexe):
        return _FAILURES["not_found"]
    if not person.date_naissance.isoformat().startswith(born):
        return _FAILURES["not_found"]
    rng = random.Random(person.seed(dataset.id))
    return _endpoint(dataset).success(SYNTHESIZERS[dataset.name](person, rng))


def _absent(dataset: Dataset, rng: random.Random) -> Answer:
    """A synthetic person no organism knows: the DSS says which one it asked, where the
    dataset's answers name it (the organism codes of its endpoint's error table)."""
    named = sorted(set(_endpoint(dataset).errors) - {NOT_FOUND, UNIDENTIFIABLE})
    code = rng.choice(named) if named else NOT_FOUND
    return 404, {"codeRetour": code, "libelle": "Aucun dossier"}
