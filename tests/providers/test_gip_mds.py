"""GIP-MDS's quirk: its upstream dialect (a search answering a list of individuals). The
common behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import RunningProvider


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    gip: RunningProvider = await serve_provider("gip_mds")
    async with httpx.AsyncClient(base_url=f"{gip.base_url}/gip_mds/") as client:
        answer = await client.post(
            "rest/v2/volontaires/recherche",
            json={
                "nomFamille": "DUPONT",
                "prenoms": ["MARIE", "LOUISE"],
                "dateNaissance": "1998-03-15",
            },
        )
    individus = answer.json()["individus"]
    assert len(individus) == 1
    assert individus[0]["contratEnCours"]["trouve"] is True
