-- The reply cache: providers' answers kept for a while, shared by every worker replica.
-- It holds personal data, so each answer is sealed (AES-256-GCM) under PARTICULIER_CACHE_KEY
-- and indexed by a keyed hash of what it answers, never by the identity itself. Unlogged:
-- a cache lost in a crash is only refilled, and not writing it to the WAL keeps it cheap.

CREATE UNLOGGED TABLE reply_cache (
    key bytea PRIMARY KEY,
    provider text NOT NULL,
    dataset text NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    sealed bytea NOT NULL
);

CREATE INDEX reply_cache_expiry ON reply_cache (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON reply_cache TO particulier_application;
