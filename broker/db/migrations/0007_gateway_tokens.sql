-- The REST gateway's bearer tokens: issued per agency, stored as their SHA-256 only (a token
-- is 32 random bytes, so no slow hash is needed), with an expiry, revocable. The gateway, an
-- editor, acts for the token's agency under a delegation.

CREATE TABLE gateway_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id bigint NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX gateway_tokens_agency ON gateway_tokens (agency_id);

GRANT SELECT ON gateway_tokens TO particulier_application;
