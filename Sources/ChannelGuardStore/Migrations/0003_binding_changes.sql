-- Every statement that changes who owns a serial leaves a row here: serial and range bindings,
-- cartons, and shipments (whose consignee is the owner). The serial index records the highest seq
-- it reflects (a snapshot's watermark), so an index older than the tables is detected and rebuilt.
-- One row per statement, not per row: a COPY of a million bindings adds one row.
CREATE TABLE binding_changes (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION note_binding_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO binding_changes (table_name) VALUES (TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER serial_bindings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON serial_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();
CREATE TRIGGER serial_range_bindings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON serial_range_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();
CREATE TRIGGER cartons_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cartons
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();
CREATE TRIGGER shipments_changed AFTER UPDATE OR DELETE OR TRUNCATE ON shipments
    FOR EACH STATEMENT EXECUTE FUNCTION note_binding_change();

-- Bulk loaders may switch ordinary triggers off (session_replication_role = replica) to skip
-- per-row foreign-key checks; these fire anyway, or a snapshot would look current after a load.
ALTER TABLE serial_bindings ENABLE ALWAYS TRIGGER serial_bindings_changed;
ALTER TABLE serial_range_bindings ENABLE ALWAYS TRIGGER serial_range_bindings_changed;
ALTER TABLE cartons ENABLE ALWAYS TRIGGER cartons_changed;
ALTER TABLE shipments ENABLE ALWAYS TRIGGER shipments_changed;
