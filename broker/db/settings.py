"""Where the databases are: the application's role and the administrator's."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DatabaseSettings"]


class DatabaseSettings(BaseSettings):
    """``PARTICULIER_DATABASE_URL`` and ``PARTICULIER_DATABASE_ADMIN_URL``.

    Workers use the application role, which may only read habilitations and append to the
    journal; migrations, provisioning and purges use the administrator.
    """

    model_config = SettingsConfigDict(env_prefix="PARTICULIER_", extra="ignore")

    database_url: str = "postgresql://particulier_app@127.0.0.1:5432/particulier"
    database_admin_url: str = "postgresql://postgres@127.0.0.1:5432/particulier"
