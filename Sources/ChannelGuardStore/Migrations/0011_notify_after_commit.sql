-- The flush no longer sends NOTIFY channelguard_alerts itself: the writer hands the batch id to the
-- daemon's announcer, which sends it once the flush has committed, from its own connection.
--
-- A transaction that notifies takes a lock shared by the whole cluster at commit and holds it until
-- the commit is done, its WAL flushed to disk included (PostgreSQL's async.c: notifications enter
-- the queue in commit order). Every flush that stored alerts held it through its fsync, and the
-- live alert announcements (asynchronous commits, milliseconds) queued behind those fsyncs, longest
-- while a rollup fold filled the WAL. At 1,000,000 TCP events/s, announcements over 5 ms went from
-- 87-126 to 57-77 of 4,000 a run, over 20 ms from 12-22 to 5-13 (docs/performance.md, "The fold's
-- seconds and the notify lock"). The notice is a hint, as before: listeners read the
-- alerts table after it, and the API's feed also catches up every second, so a notice lost to a
-- crash right after the commit delays a reader by at most that second.
CREATE OR REPLACE FUNCTION store_scan_batch(
    p_flushed_at timestamptz, p_node text, p_shard smallint, p_format_version smallint,
    p_event_count integer, p_first_scan_at timestamptz, p_last_scan_at timestamptz, p_raw_bytes integer,
    p_payload bytea, p_rollup bytea,
    p_gateways text[], p_sequences text[],
    p_rules text[], p_severities text[], p_scanned_ms text[], p_steps text[], p_gtins text[], p_serials text[],
    p_ssccs text[], p_distributors text[], p_scan_parties text[], p_scan_regions text[], p_distances text[],
    p_prices_fen text[], p_alert_gateways text[], p_devices text[], p_evidence text[]
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    batch bigint := nextval('scan_batches_id_seq');
    alert_count integer := coalesce(cardinality(p_rules), 0);
BEGIN
    INSERT INTO scan_batches (id, flushed_at, node, shard, format_version, codec, event_count, alert_count,
                              first_scan_at, last_scan_at, raw_bytes, payload, rollup, rolled_up)
    VALUES (batch, p_flushed_at, p_node, p_shard, p_format_version, 'zstd', p_event_count, alert_count,
            p_first_scan_at, p_last_scan_at, p_raw_bytes, p_payload, p_rollup, p_rollup IS NULL);
    IF coalesce(cardinality(p_gateways), 0) > 0 THEN
        INSERT INTO gateway_offsets (gateway_id, stream_id, last_sequence, last_batch_id, updated_at)
        SELECT gateway_id::integer, p_shard, last_sequence::bigint, batch, now()
        FROM unnest(p_gateways, p_sequences) AS t(gateway_id, last_sequence)
        ON CONFLICT (gateway_id, stream_id) DO UPDATE
        SET last_sequence = greatest(gateway_offsets.last_sequence, excluded.last_sequence),
            last_batch_id = excluded.last_batch_id, updated_at = excluded.updated_at;
    END IF;
    IF alert_count > 0 THEN
        -- Alert ids in commit order (migration 7): held until the statement's transaction commits.
        PERFORM pg_advisory_xact_lock(alert_stream_lock_key());
        INSERT INTO alerts (rule, severity, scanned_at, step, gtin, serial, sscc, distributor_id, scan_party_id,
                            scan_region, distance_km, price, gateway_id, device, batch_id, evidence)
        SELECT rule, severity, to_timestamp(scanned_ms::bigint / 1000.0), step, gtin, serial, sscc,
               distributor_id::bigint, scan_party_id::bigint, scan_region, distance_km::real,
               price_fen::bigint / 100.0, gateway_id::integer, device, batch, evidence::jsonb
        FROM unnest(p_rules, p_severities, p_scanned_ms, p_steps, p_gtins, p_serials, p_ssccs, p_distributors,
                    p_scan_parties, p_scan_regions, p_distances, p_prices_fen, p_alert_gateways, p_devices,
                    p_evidence)
             AS t(rule, severity, scanned_ms, step, gtin, serial, sscc, distributor_id, scan_party_id,
                  scan_region, distance_km, price_fen, gateway_id, device, evidence);
    END IF;
    RETURN batch;
END
$$;
