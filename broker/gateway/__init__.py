"""API Particulier's REST interface over the broker, for editors' software and existing
integrations: change the base URL, keep the code (docs/gateway.md)."""

from ._app import Gateway
from ._routes import Route, query_pairs, query_params, routes_of
from ._serve import running, serve
from ._settings import GatewaySettings
from ._tokens import TokenState, TokenStore, issue_token, list_tokens, revoke_token

__all__ = [
    "Gateway",
    "GatewaySettings",
    "Route",
    "TokenState",
    "TokenStore",
    "issue_token",
    "list_tokens",
    "query_pairs",
    "query_params",
    "revoke_token",
    "routes_of",
    "running",
    "serve",
]
