"""The reply cache: providers' answers shared by every worker replica, sealed at rest.

See ``docs/operations.md#reply-cache``.
"""

from ._store import CachedAnswer, CacheSettings, ReplyCache, cache_secret

__all__ = ["CacheSettings", "CachedAnswer", "ReplyCache", "cache_secret"]
