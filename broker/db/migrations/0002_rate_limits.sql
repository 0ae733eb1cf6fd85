-- Shared state of the rate limiter: one row per (habilitation, lane), a GCRA "theoretical
-- arrival time" in seconds since the epoch of the database's clock, so that every worker
-- process draws from the same bucket. UNLOGGED: after a crash the buckets start full again,
-- which is harmless.

CREATE UNLOGGED TABLE rate_limits (
    habilitation_id bigint NOT NULL,
    lane text NOT NULL,
    tat double precision NOT NULL,
    seen double precision NOT NULL,
    allowed boolean NOT NULL,
    PRIMARY KEY (habilitation_id, lane)
) WITH (fillfactor = 50);

GRANT SELECT, INSERT, UPDATE ON rate_limits TO particulier_application;
