-- Which bindings a change touched, so that running ingest nodes can update their serial index row
-- by row instead of rebuilding it. Filled by statement triggers with transition tables; a statement
-- touching more than 10,000 rows (a bulk load) records no keys and is marked ':bulk' in
-- binding_changes: nodes rebuild for those. Cartons and printed runs are recorded as changes
-- without keys (their fan-out is handled by a rebuild as well).
CREATE TABLE binding_change_keys (
    seq         bigint NOT NULL,
    gtin        char(14),
    serial      text,
    shipment_id bigint
);
CREATE INDEX binding_change_keys_seq_idx ON binding_change_keys (seq);

CREATE FUNCTION note_serial_binding_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
    touched bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO touched FROM old_rows;
    ELSE
        SELECT count(*) INTO touched FROM new_rows;
    END IF;
    INSERT INTO binding_changes (table_name)
        VALUES (TG_TABLE_NAME || CASE WHEN touched > 10000 THEN ':bulk' ELSE '' END)
        RETURNING seq INTO new_seq;
    IF touched <= 10000 THEN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO binding_change_keys (seq, gtin, serial) SELECT new_seq, gtin, serial FROM old_rows;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO binding_change_keys (seq, gtin, serial)
                SELECT new_seq, gtin, serial FROM new_rows UNION SELECT new_seq, gtin, serial FROM old_rows;
        ELSE
            INSERT INTO binding_change_keys (seq, gtin, serial) SELECT new_seq, gtin, serial FROM new_rows;
        END IF;
    END IF;
    PERFORM pg_notify('channelguard_bindings', new_seq::text);
    RETURN NULL;
END
$$;

-- A shipment's consignee is the owner of everything it carried.
CREATE FUNCTION note_shipment_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
BEGIN
    INSERT INTO binding_changes (table_name) VALUES (TG_TABLE_NAME) RETURNING seq INTO new_seq;
    INSERT INTO binding_change_keys (seq, shipment_id) SELECT new_seq, id FROM new_rows;
    PERFORM pg_notify('channelguard_bindings', new_seq::text);
    RETURN NULL;
END
$$;

DROP TRIGGER serial_bindings_changed ON serial_bindings;
CREATE TRIGGER serial_bindings_inserted AFTER INSERT ON serial_bindings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_serial_binding_keys();
CREATE TRIGGER serial_bindings_updated AFTER UPDATE ON serial_bindings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_serial_binding_keys();
CREATE TRIGGER serial_bindings_deleted AFTER DELETE ON serial_bindings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION note_serial_binding_keys();
CREATE TRIGGER serial_bindings_truncated AFTER TRUNCATE ON serial_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();

DROP TRIGGER shipments_changed ON shipments;
CREATE TRIGGER shipments_updated AFTER UPDATE ON shipments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_shipment_keys();
CREATE TRIGGER shipments_changed AFTER DELETE OR TRUNCATE ON shipments
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();

ALTER TABLE serial_bindings ENABLE ALWAYS TRIGGER serial_bindings_inserted;
ALTER TABLE serial_bindings ENABLE ALWAYS TRIGGER serial_bindings_updated;
ALTER TABLE serial_bindings ENABLE ALWAYS TRIGGER serial_bindings_deleted;
ALTER TABLE serial_bindings ENABLE ALWAYS TRIGGER serial_bindings_truncated;
ALTER TABLE shipments ENABLE ALWAYS TRIGGER shipments_updated;
ALTER TABLE shipments ENABLE ALWAYS TRIGGER shipments_changed;
