-- FranceConnect mode. A habilitation states the modes it allows: the identity pivot (the
-- agency sends the person's identity) and FranceConnect (it sends the citizen's FranceConnect
-- token). An agency presents only tokens obtained by its own FranceConnect clients.

ALTER TABLE habilitations
    ADD COLUMN modes text[] NOT NULL DEFAULT '{identity}'
    CHECK (cardinality(modes) > 0 AND modes <@ '{identity,france_connect}');

CREATE TABLE france_connect_clients (
    client_id text PRIMARY KEY CHECK (client_id <> ''),
    agency_id bigint NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX france_connect_clients_agency ON france_connect_clients (agency_id);

CREATE TRIGGER france_connect_clients_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON france_connect_clients
    FOR EACH STATEMENT EXECUTE FUNCTION habilitations_touch();

GRANT SELECT ON france_connect_clients TO particulier_application;
