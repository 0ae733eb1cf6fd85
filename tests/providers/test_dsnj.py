"""DSNJ's quirks: staging's own error codes and titles (not API Particulier's defaults) and
its upstream dialect. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx

from workers.dsnj import PROVIDER

from .conftest import RunningProvider

ERRORS = PROVIDER.errors


def test_staging_error_codes() -> None:
    assert (ERRORS.unavailable.code, ERRORS.unavailable.status) == ("39002", 502)
    assert ERRORS.unavailable.title == "Erreur serveur"
    assert (ERRORS.timeout.code, ERRORS.timeout.status) == ("39005", 504)
    assert ERRORS.timeout.title == "Temps d'attente dépassé"
    assert (ERRORS.rate_limited.code, ERRORS.rate_limited.status) == ("39004", 429)
    assert ERRORS.rate_limited.title == "Quota dépassé"
    assert (ERRORS.not_found.code, ERRORS.unknown.code) == ("39003", "39999")
    refused = ERRORS.by_code("39001")
    assert refused is not None
    assert (refused.status, refused.title, refused.provider) == (403, "Accès refusé", "DSNJ")


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    dsnj: RunningProvider = await serve_provider("dsnj")
    async with httpx.AsyncClient(base_url=f"{dsnj.base_url}/dsnj/") as client:
        answer = await client.post("api/v1/jeunes/situation", json={"jeune": {"nomNaissance": "X"}})
        bad = await client.post("api/v1/jeunes/situation", json={"personne": {}})
    assert (answer.status_code, answer.json()["erreur"]["code"]) == (404, "JEUNE_INCONNU")
    assert bad.status_code == 400
