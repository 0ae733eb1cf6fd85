-- The audit journal: one row per request answered or refused, chained by a keyed hash
-- (computed by the writer, which holds the key), partitioned by month of recorded_at.
-- The application may only INSERT and SELECT it.

CREATE TABLE journal (
    seq bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    at timestamptz NOT NULL,
    message_id text NOT NULL,
    correlation_id text,
    requester text NOT NULL,
    agency text,
    habilitation_id bigint,
    recipient text,
    dataset text,
    version integer,
    lane text NOT NULL,
    scopes text[] NOT NULL,
    status integer NOT NULL,
    error_code text,
    upstream_latency_ms double precision,
    cached boolean NOT NULL,
    reply_digest text NOT NULL,
    subject text,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
) PARTITION BY RANGE (recorded_at);

CREATE INDEX journal_seq ON journal (seq);
CREATE INDEX journal_subject ON journal (subject) WHERE subject IS NOT NULL;
CREATE INDEX journal_agency ON journal (agency, recorded_at);

-- The end of the chain. Writers lock this row for the duration of a batch, which orders the
-- batches of every process into one chain; mac (keyed) lets verify notice a truncated tail.
CREATE TABLE journal_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL DEFAULT 0,
    hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
    recorded_at timestamptz NOT NULL DEFAULT '-infinity',
    mac bytea
);

INSERT INTO journal_head DEFAULT VALUES;

-- Where the chain starts once purge has dropped old partitions: the last dropped row.
CREATE TABLE journal_anchor (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL DEFAULT 0,
    hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
    purged_before timestamptz,
    mac bytea
);

INSERT INTO journal_anchor DEFAULT VALUES;

-- The exact reply bytes of each request, kept about a day, so that a redelivered request is
-- answered the same way without a second upstream call. Partitioned by day for cheap expiry.
CREATE TABLE replies (
    day date NOT NULL,
    requester text NOT NULL,
    message_id text NOT NULL,
    created_at timestamptz NOT NULL,
    reply bytea NOT NULL,
    PRIMARY KEY (requester, message_id, day)
) PARTITION BY RANGE (day);

-- Partitions are created by migrate ahead of time, and on demand by the writer through these
-- functions (the application role cannot run DDL itself).
CREATE FUNCTION particulier_ensure_journal_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
SET "TimeZone" = 'UTC'
AS $$
DECLARE
    lower_bound timestamptz := date_trunc('month', ts);
    upper_bound timestamptz := date_trunc('month', ts) + interval '1 month';
    part text := 'journal_' || to_char(date_trunc('month', ts), 'YYYY"m"MM');
BEGIN
    IF to_regclass(format('public.%I', part)) IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE TABLE public.%I PARTITION OF public.journal FOR VALUES FROM (%L) TO (%L)',
                part, lower_bound, upper_bound);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN part;
END
$$;

CREATE FUNCTION particulier_ensure_reply_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
SET "TimeZone" = 'UTC'
AS $$
DECLARE
    d date := ts::date;
    part text := 'replies_' || to_char(ts::date, 'YYYY"d"MMDD');
BEGIN
    IF to_regclass(format('public.%I', part)) IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE TABLE public.%I PARTITION OF public.replies FOR VALUES FROM (%L) TO (%L)',
                part, d, d + 1);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN part;
END
$$;

CREATE FUNCTION particulier_ensure_partitions(ts timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    SELECT particulier_ensure_journal_partition(ts), particulier_ensure_reply_partition(ts);
$$;

REVOKE ALL ON FUNCTION particulier_ensure_journal_partition(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION particulier_ensure_reply_partition(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION particulier_ensure_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION particulier_ensure_partitions(timestamptz) TO particulier_application;

GRANT SELECT, INSERT ON journal TO particulier_application;
GRANT SELECT, UPDATE ON journal_head TO particulier_application;
GRANT SELECT ON journal_anchor TO particulier_application;
GRANT SELECT, INSERT ON replies TO particulier_application;
