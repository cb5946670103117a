-- Every statement that changes what the ingest pipeline checks scans against (gateways,
-- distributors, territory grants, price floors, products) leaves a row here and wakes running
-- ingest nodes with NOTIFY channelguard_reference; a node that missed a notification (reconnect)
-- catches up by comparing max(seq) with the version it holds.
CREATE TABLE reference_changes (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION note_reference_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
BEGIN
    INSERT INTO reference_changes (table_name) VALUES (TG_TABLE_NAME) RETURNING seq INTO new_seq;
    PERFORM pg_notify('channelguard_reference', new_seq::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER gateways_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gateways
    FOR EACH STATEMENT EXECUTE FUNCTION note_reference_change();
CREATE TRIGGER distributors_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON distributors
    FOR EACH STATEMENT EXECUTE FUNCTION note_reference_change();
CREATE TRIGGER territory_grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON territory_grants
    FOR EACH STATEMENT EXECUTE FUNCTION note_reference_change();
CREATE TRIGGER minimum_retail_prices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON minimum_retail_prices
    FOR EACH STATEMENT EXECUTE FUNCTION note_reference_change();
CREATE TRIGGER products_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION note_reference_change();

ALTER TABLE gateways ENABLE ALWAYS TRIGGER gateways_changed;
ALTER TABLE distributors ENABLE ALWAYS TRIGGER distributors_changed;
ALTER TABLE territory_grants ENABLE ALWAYS TRIGGER territory_grants_changed;
ALTER TABLE minimum_retail_prices ENABLE ALWAYS TRIGGER minimum_retail_prices_changed;
ALTER TABLE products ENABLE ALWAYS TRIGGER products_changed;

-- Binding changes wake ingest nodes too.
CREATE OR REPLACE FUNCTION note_binding_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
BEGIN
    INSERT INTO binding_changes (table_name) VALUES (TG_TABLE_NAME) RETURNING seq INTO new_seq;
    PERFORM pg_notify('channelguard_bindings', new_seq::text);
    RETURN NULL;
END
$$;

-- The frames a gateway stream has stored, per pipeline shard (stream_id = shard number).
COMMENT ON COLUMN gateway_offsets.stream_id IS 'the ingest pipeline shard that stored the events';
