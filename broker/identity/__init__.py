"""Identity pivot helpers: turning what a citizen says about their birth into INSEE codes."""

from broker.identity.cog import is_known_commune, normalise_commune_name, resolve_birthplace

__all__ = ["is_known_commune", "normalise_commune_name", "resolve_birthplace"]
