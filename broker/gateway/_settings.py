"""The gateway's settings, from the environment (docs/operations.md, "Configuration")."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings"]


class GatewaySettings(BaseSettings):
    """Who the gateway is on the broker: an editor, with a RabbitMQ login of its own."""

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    gateway_amqp_url: str = "amqp://particulier_gateway:particulier_gateway@127.0.0.1:5672/"
    """The gateway editor's login (``particulier editors create`` provisions it)."""
    gateway_editor: str = "Passerelle REST"
    """The editor's name: ``tokens issue`` delegates each token's agency to it."""
    gateway_user: str = "particulier_gateway"
    gateway_timeout: float = 30.0
    """Seconds a request waits for its reply before the gateway answers 504 00803."""
