-- Binding changes of any size, in commit order, followed live by running ingest nodes.
--
-- 1. Every statement records the keys it touched, whatever its size (version 6 recorded none past
--    10,000 rows, and the nodes could only rebuild at their next start): exact serials by
--    (gtin, serial), printed runs by (gtin, prefix), cartons by SSCC, shipments by id (their
--    consignee owns all they carried). Only TRUNCATE records no keys.
-- 2. Change ids and key ids are handed out under a transaction-level advisory lock held to commit,
--    so they are in commit order: a follower that has read every change up to n never sees a
--    change below n commit later (with plain identity values it could, and skipped it for good).
-- 3. binding_change_keys gets an id to page by, and a kind.

CREATE FUNCTION binding_change_lock_key() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 7373110003;

ALTER TABLE binding_change_keys
    ADD COLUMN kind text NOT NULL DEFAULT 'serial' CHECK (kind IN ('serial', 'range', 'carton', 'shipment')),
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
UPDATE binding_change_keys SET kind = 'shipment' WHERE shipment_id IS NOT NULL;
ALTER TABLE binding_change_keys ADD PRIMARY KEY (id);
-- A serial row names its key; a range row its gtin and prefix (in serial); a carton row its SSCC
-- (in serial); a shipment row its id.
ALTER TABLE binding_change_keys ADD CONSTRAINT binding_change_keys_shape CHECK (
    (kind = 'shipment') = (shipment_id IS NOT NULL) AND (kind = 'shipment' OR serial IS NOT NULL));

-- A change row, in commit order; notifies after the keys are in (the notice is delivered at commit).
CREATE FUNCTION begin_binding_change(name text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(binding_change_lock_key());
    INSERT INTO binding_changes (table_name) VALUES (name) RETURNING seq INTO new_seq;
    PERFORM pg_notify('channelguard_bindings', new_seq::text);
    RETURN new_seq;
END
$$;

-- Statements without keys: TRUNCATE (every binding of the table is gone: nodes rebuild at their
-- next start) and DELETE of shipments (which no binding can still reference). The operation is
-- part of the name, e.g. serial_bindings:truncate.
CREATE OR REPLACE FUNCTION note_binding_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM begin_binding_change(TG_TABLE_NAME || ':' || lower(TG_OP));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION note_serial_binding_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint := begin_binding_change(TG_TABLE_NAME);
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO binding_change_keys (seq, gtin, serial) SELECT new_seq, gtin, serial FROM old_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO binding_change_keys (seq, gtin, serial)
            SELECT new_seq, gtin, serial FROM new_rows UNION SELECT new_seq, gtin, serial FROM old_rows;
    ELSE
        INSERT INTO binding_change_keys (seq, gtin, serial) SELECT new_seq, gtin, serial FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION note_shipment_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint := begin_binding_change(TG_TABLE_NAME);
BEGIN
    INSERT INTO binding_change_keys (seq, kind, shipment_id) SELECT new_seq, 'shipment', id FROM new_rows;
    RETURN NULL;
END
$$;

CREATE FUNCTION note_range_binding_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint := begin_binding_change(TG_TABLE_NAME);
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO binding_change_keys (seq, kind, gtin, serial)
            SELECT new_seq, 'range', gtin, serial_prefix FROM old_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO binding_change_keys (seq, kind, gtin, serial)
            SELECT new_seq, 'range', gtin, serial_prefix FROM new_rows
            UNION SELECT new_seq, 'range', gtin, serial_prefix FROM old_rows;
    ELSE
        INSERT INTO binding_change_keys (seq, kind, gtin, serial)
            SELECT new_seq, 'range', gtin, serial_prefix FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION note_carton_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint := begin_binding_change(TG_TABLE_NAME);
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO binding_change_keys (seq, kind, serial) SELECT new_seq, 'carton', sscc FROM old_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO binding_change_keys (seq, kind, serial)
            SELECT new_seq, 'carton', sscc FROM new_rows UNION SELECT new_seq, 'carton', sscc FROM old_rows;
    ELSE
        INSERT INTO binding_change_keys (seq, kind, serial) SELECT new_seq, 'carton', sscc FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER serial_range_bindings_changed ON serial_range_bindings;
CREATE TRIGGER serial_range_bindings_inserted AFTER INSERT ON serial_range_bindings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_range_binding_keys();
CREATE TRIGGER serial_range_bindings_updated AFTER UPDATE ON serial_range_bindings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_range_binding_keys();
CREATE TRIGGER serial_range_bindings_deleted AFTER DELETE ON serial_range_bindings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION note_range_binding_keys();
CREATE TRIGGER serial_range_bindings_truncated AFTER TRUNCATE ON serial_range_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();

DROP TRIGGER cartons_changed ON cartons;
CREATE TRIGGER cartons_inserted AFTER INSERT ON cartons
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_carton_keys();
CREATE TRIGGER cartons_updated AFTER UPDATE ON cartons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_carton_keys();
CREATE TRIGGER cartons_deleted AFTER DELETE ON cartons
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION note_carton_keys();
CREATE TRIGGER cartons_truncated AFTER TRUNCATE ON cartons
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();

-- Bulk loaders may run with session_replication_role = replica; these fire anyway.
ALTER TABLE serial_range_bindings ENABLE ALWAYS TRIGGER serial_range_bindings_inserted;
ALTER TABLE serial_range_bindings ENABLE ALWAYS TRIGGER serial_range_bindings_updated;
ALTER TABLE serial_range_bindings ENABLE ALWAYS TRIGGER serial_range_bindings_deleted;
ALTER TABLE serial_range_bindings ENABLE ALWAYS TRIGGER serial_range_bindings_truncated;
ALTER TABLE cartons ENABLE ALWAYS TRIGGER cartons_inserted;
ALTER TABLE cartons ENABLE ALWAYS TRIGGER cartons_updated;
ALTER TABLE cartons ENABLE ALWAYS TRIGGER cartons_deleted;
ALTER TABLE cartons ENABLE ALWAYS TRIGGER cartons_truncated;

-- Keys are kept for a while, then pruned (prune_binding_change_keys, called by the ingest nodes'
-- followers). A node that has applied less than the horizon cannot catch up from the keys and
-- rebuilds at its next start; a starting node never needs them (its snapshot is current or it
-- rebuilds from the tables).
CREATE TABLE binding_change_horizon (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO binding_change_horizon DEFAULT VALUES;

CREATE FUNCTION prune_binding_change_keys(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    through bigint;
    removed bigint;
BEGIN
    SELECT max(seq) INTO through FROM binding_changes WHERE changed_at < now() - keep;
    IF through IS NULL OR through <= (SELECT pruned_through FROM binding_change_horizon) THEN
        RETURN 0;
    END IF;
    DELETE FROM binding_change_keys WHERE seq <= through;
    GET DIAGNOSTICS removed = ROW_COUNT;
    UPDATE binding_change_horizon SET pruned_through = through;
    RETURN removed;
END
$$;
