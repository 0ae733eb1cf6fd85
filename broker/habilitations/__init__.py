"""Who may see what: agencies, habilitations, scopes, recipients and rate limits."""

from ..config import DEMO_FRANCE_CONNECT_CLIENT
from .admin import (
    DEFAULT_INTERACTIVE_RATE,
    DEMO_AGENCY,
    DEMO_SIRET,
    DEMO_USER,
    Agency,
    AgencyConflict,
    DemoSeed,
    HabilitationInfo,
    add_france_connect_client,
    create_agency,
    grant,
    list_agencies,
    list_france_connect_clients,
    list_habilitations,
    remove_france_connect_client,
    resolve_scopes,
    revoke,
    seed_demo,
)
from .cache import Grant, Habilitations, HabilitationsUnavailable
from .provision import AgencyPermissions, ProvisioningError, RabbitMQ, agency_permissions
from .ratelimit import RateLimiter
from .recipient import check_recipient

__all__ = [
    "DEFAULT_INTERACTIVE_RATE",
    "DEMO_AGENCY",
    "DEMO_FRANCE_CONNECT_CLIENT",
    "DEMO_SIRET",
    "DEMO_USER",
    "Agency",
    "AgencyConflict",
    "AgencyPermissions",
    "DemoSeed",
    "Grant",
    "HabilitationInfo",
    "Habilitations",
    "HabilitationsUnavailable",
    "ProvisioningError",
    "RabbitMQ",
    "RateLimiter",
    "add_france_connect_client",
    "agency_permissions",
    "check_recipient",
    "create_agency",
    "grant",
    "list_agencies",
    "list_france_connect_clients",
    "list_habilitations",
    "remove_france_connect_client",
    "resolve_scopes",
    "revoke",
    "seed_demo",
]
