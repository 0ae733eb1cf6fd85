"""France Travail's quirk: its upstream dialect (a login, two resources). The common
behaviour is in ``test_every_provider``."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import RunningProvider


async def test_the_simulator_speaks_its_own_dialect(serve_provider: Any) -> None:
    ft: RunningProvider = await serve_provider("france_travail")
    async with httpx.AsyncClient(base_url=f"{ft.base_url}/france_travail/") as client:
        found = await client.get("v1/demandeurs/situation", params={"loginUsager": "default"})
        unknown = await client.get("v1/demandeurs/versements", params={"loginUsager": "inconnu"})
    assert found.status_code == 200
    assert set(found.json()) == {"demandeur"}
    assert "etatCivil" in found.json()["demandeur"]
    assert unknown.status_code == 404
    assert unknown.json()["codeErreur"] == "DEMANDEUR_INCONNU"
