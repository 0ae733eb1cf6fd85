"""Provisioning settings: where the agencies' RabbitMQ users live."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ProvisioningSettings"]


class ProvisioningSettings(BaseSettings):
    """``PARTICULIER_AMQP_URL`` (its virtual host is the default one) and ``rabbitmqctl``."""

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    rabbitmqctl: str = "rabbitmqctl"
    rabbitmq_node: str | None = None
