"""Running the gateway: its broker connection, database pool and HTTP server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from .. import registry
from ..certification import local_jwks
from ..config import settings
from ..db import create_pool
from ..runtime import until_signalled
from ..sdk import Client
from ..sdk.contract import Lane
from ._app import Gateway
from ._routes import routes_of
from ._settings import GatewaySettings
from ._tokens import TokenStore

__all__ = ["running", "serve"]


@contextlib.asynccontextmanager
async def running(
    host: str = "127.0.0.1", port: int = 8800, *, amqp_url: str | None = None
) -> AsyncIterator[Gateway]:
    """The gateway listening on ``host:port`` until the block ends."""
    config = GatewaySettings()
    pool = await create_pool(settings().database_url)
    try:
        async with Client(
            amqp_url or config.gateway_amqp_url, lane=Lane.INTERACTIVE, jwks=local_jwks()
        ) as client:
            gateway = Gateway(
                client,
                TokenStore(pool),
                routes_of(registry.datasets()),
                timeout=config.gateway_timeout,
            )
            runner = web.AppRunner(gateway.app(), access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, host, port).start()
                yield gateway
            finally:
                await runner.cleanup()
    finally:
        await pool.close()


async def serve(host: str, port: int) -> None:
    """``particulier gateway``: serve until SIGTERM or SIGINT."""
    async with running(host, port):
        await until_signalled()
