"""PostgreSQL access: pools, the migration runner and its SQL files."""

from .migrate import APP_GROUP_ROLE, MigrationError, migrate
from .pool import create_pool, is_unavailable
from .settings import DatabaseSettings

__all__ = [
    "APP_GROUP_ROLE",
    "DatabaseSettings",
    "MigrationError",
    "create_pool",
    "is_unavailable",
    "migrate",
]
