-- Editors: software vendors acting for many agencies with one RabbitMQ user of their own. A
-- delegation links an editor to an agency; a request of the editor names the agency it acts
-- for and is authorised by that agency's habilitations (and counted against its rate limits).
-- The journal records both, and the keyed hash of the agent at the counter when given.

CREATE TABLE editors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name <> ''),
    rabbitmq_user text NOT NULL UNIQUE CHECK (rabbitmq_user ~ '^[A-Za-z0-9_-]+$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE delegations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    editor_id bigint NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    agency_id bigint NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE UNIQUE INDEX delegations_current ON delegations (editor_id, agency_id)
    WHERE revoked_at IS NULL;

CREATE TRIGGER editors_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON editors
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();
CREATE TRIGGER delegations_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON delegations
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();

GRANT SELECT ON editors, delegations TO particulier_application;

ALTER TABLE journal ADD COLUMN editor text, ADD COLUMN agent text;
