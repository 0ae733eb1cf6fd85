"""Configuration from the environment (``PARTICULIER_*``), with defaults for this machine."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .sdk import DEFAULT_URL as DEFAULT_AMQP_URL

DEMO_FRANCE_CONNECT_CLIENT = "6925fb8143c76eded44d32b40c0cb1006065f7f003de52712b78985704f39950"
"""The demo agency's FranceConnect client: the one staging's test tokens were issued to, and
the FranceConnect simulator's default."""

__all__ = ["Settings", "settings"]


class Settings(BaseSettings):
    """Everything a process reads from its environment; see the README's table."""

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    amqp_url: str = DEFAULT_AMQP_URL
    database_url: str = "postgresql://particulier_app@127.0.0.1:5432/particulier"
    simulator_url: str = Field(
        default="http://127.0.0.1:8700",
        description="Base URL of the upstream simulators; provider P is served under /P.",
    )
    upstream_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Per-provider upstream base URL, e.g. {"cnav": "https://..."}; '
        "overrides simulator_url.",
    )
    metrics_port: int = 9108
    interactive_prefetch: int = 256
    bulk_prefetch: int = 128
    bulk_floor: int = Field(
        default=1,
        description="Bulk requests that may always use the worker at once, however busy the "
        "interactive lane (those waiting for their upstream do not count); the share the "
        "bulk lane starts from when interactive traffic arrives.",
    )
    interactive_hold: float = Field(
        default=1.0,
        description="Seconds after the last interactive request during which the bulk lane "
        "gets a share that follows the interactive lane rather than bulk_prefetch.",
    )
    interactive_slowdown: float = Field(
        default=0.25,
        description="How much longer an interactive request may take because of bulk work "
        "while interactive traffic is recent (0.25: a quarter longer than with nothing in its "
        "way, its upstream call included): a request slowed more halves the bulk share, one "
        "that was not gives it one request more; a negative value keeps the share at the floor.",
    )
    default_deadline: float = Field(
        default=30.0, description="Seconds granted to a request that sets no deadline."
    )
    max_handling: float = Field(
        default=120.0,
        description="Seconds a worker spends on one request at most, whatever its deadline: "
        "past that (plus a short grace) the request is dead-lettered `deadline-exceeded` "
        "and its prefetch slot freed. Waiting out a journal outage does not count.",
    )
    upstream_attempts: int = 3
    maintenance_file: str | None = Field(
        default=None,
        description="TOML file of the providers' maintenance windows (deploy/maintenance.toml "
        "shows the form); none: no window.",
    )
    breaker_threshold: int = Field(
        default=5,
        description="Failed upstream calls in a row (unavailable, timeout, 5xx) that open a "
        "provider's circuit breaker.",
    )
    breaker_cool_down: float = Field(
        default=30.0,
        description="Seconds an opened breaker answers at once before a probe is let through "
        "(doubling, up to 300 s, while probes fail).",
    )
    upstream_max_connections: int = 512
    france_connect_key: str | None = Field(
        default=None,
        description="File of the broker's private encryption keys (a JWKS of RSA keys), to "
        "which FranceConnect encrypts introspection answers; FranceConnect mode is off "
        "without it.",
    )
    france_connect_url: str | None = Field(
        default=None,
        description="FranceConnect's base URL (``/api/v2/token/introspect``, "
        "``/api/v2/jwks``); default: the simulators' ``/france_connect``.",
    )
    france_connect_client_id: str = Field(
        default=DEMO_FRANCE_CONNECT_CLIENT,
        description="The broker's FranceConnect client id (default: the simulator's).",
    )
    france_connect_client_secret: str = Field(
        default="secret", description="Its client secret (default: the simulator's)."
    )

    def france_connect_base(self) -> str:
        return self.france_connect_url or f"{self.simulator_url.rstrip('/')}/france_connect"

    def upstream_url(self, provider: str) -> str:
        return self.upstream_urls.get(provider) or f"{self.simulator_url.rstrip('/')}/{provider}"


@cache
def settings() -> Settings:
    return Settings()
