-- Agencies, their habilitations and the (dataset, scope) pairs granted.
-- Workers read these through the role particulier_application (SELECT only) and cache them;
-- every change bumps habilitations_revision so that caches reload within seconds.

CREATE TABLE agencies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name <> ''),
    siret text NOT NULL CHECK (siret ~ '^[0-9]{14}$'),
    rabbitmq_user text NOT NULL UNIQUE CHECK (rabbitmq_user ~ '^[A-Za-z0-9_-]+$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE habilitations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id bigint NOT NULL REFERENCES agencies (id),
    legal_basis text NOT NULL CHECK (legal_basis <> ''),
    legal_reference text NOT NULL CHECK (legal_reference <> ''),
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    revoked_at timestamptz,
    -- requests per second on each lane; NULL means unlimited
    rate_interactive double precision DEFAULT 20 CHECK (rate_interactive > 0),
    rate_bulk double precision CHECK (rate_bulk > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
);

CREATE INDEX habilitations_agency ON habilitations (agency_id);

CREATE TABLE habilitation_scopes (
    habilitation_id bigint NOT NULL REFERENCES habilitations (id) ON DELETE CASCADE,
    dataset text NOT NULL,
    scope text NOT NULL,
    PRIMARY KEY (habilitation_id, dataset, scope)
);

CREATE TABLE habilitations_revision (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    revision bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO habilitations_revision DEFAULT VALUES;

CREATE FUNCTION habilitations_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE habilitations_revision SET revision = revision + 1, changed_at = now();
    RETURN NULL;
END
$$;

CREATE TRIGGER agencies_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();
CREATE TRIGGER habilitations_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON habilitations
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();
CREATE TRIGGER habilitation_scopes_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON habilitation_scopes
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();

GRANT SELECT ON agencies, habilitations, habilitation_scopes, habilitations_revision
    TO particulier_application;
