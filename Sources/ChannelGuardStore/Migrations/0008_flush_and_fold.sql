-- Cheaper flushes and incident folding.
--
-- A flush in one statement: the batch row, the gateway offsets it advances and its alerts, then
-- NOTIFY channelguard_alerts, all in the statement's own transaction. The writer sends it as one
-- round trip, which commits as it returns; before, the same work took eight (BEGIN, the batch id,
-- COPY, offsets, the alert lock, alerts, NOTIFY, COMMIT), and on two busy cores each one waited for
-- the server process to be scheduled. Returns the batch id.
--
-- Offsets come as two text arrays (gateway id, last sequence); alerts as fifteen text arrays, one
-- per column, in the order of the unnest below.
CREATE FUNCTION store_scan_batch(
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
        PERFORM pg_notify('channelguard_alerts', batch::text);
    END IF;
    RETURN batch;
END
$$;

-- Folding alerts into incidents, cheaper. Version 7 linked each folded alert to its incident by
-- joining the whole incidents table on (rule, window) and filtering the distributor afterwards
-- (IS NOT DISTINCT FROM cannot be hashed): with 3,900 incidents and 27 alerts that was 105,000
-- rows compared and 60 ms a call, a fifth of a core at 100 alerts/s, taken from the cores that
-- carry the scans. The incidents the upsert returns are now joined to the alerts' own keys (both
-- tiny), so the link and the grouping use the very same destination (version 7 derived it twice).
CREATE OR REPLACE FUNCTION fold_alerts_into_incidents(max_alerts integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    -- One folder at a time (several ingest nodes may call this); the others find nothing to do.
    IF NOT pg_try_advisory_xact_lock(7373110002) THEN
        RETURN 0;
    END IF;
    SELECT array_agg(id ORDER BY id) INTO ids
    FROM (SELECT id FROM alerts WHERE incident_id IS NULL ORDER BY id LIMIT max_alerts) pending;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    WITH keyed AS (
        SELECT n.id, n.distributor_id, n.rule, coalesce(c.code, n.scan_region) AS destination,
               incident_window_start(n.scanned_at) AS window_start, n.severity, n.scanned_at
        FROM alerts n
        LEFT JOIN regions c ON c.code = destination_region_of(n.scan_region)
        WHERE n.id = ANY (ids)
    ), grouped AS (
        SELECT distributor_id, rule, destination, window_start,
               max(severity_rank(severity)) AS rank, min(scanned_at) AS first_seen, max(scanned_at) AS last_seen
        FROM keyed
        GROUP BY 1, 2, 3, 4
    ), upserted AS (
        INSERT INTO incidents (distributor_id, rule, destination_region, window_start, window_end, severity,
                               first_seen, last_seen)
        SELECT distributor_id, rule, destination, window_start, window_start + interval '1 day',
               (ARRAY['low', 'medium', 'high', 'critical'])[rank + 1], first_seen, last_seen
        FROM grouped
        ON CONFLICT (distributor_id, rule, destination_region, window_start) DO UPDATE
        SET severity = CASE WHEN severity_rank(excluded.severity) > severity_rank(incidents.severity)
                            THEN excluded.severity ELSE incidents.severity END
        RETURNING id, distributor_id, rule, destination_region, window_start, (xmax = 0) AS inserted
    ), created AS (
        INSERT INTO incident_events (incident_id, action, to_status, details)
        SELECT id, 'created', 'open', '{}'::jsonb FROM upserted WHERE inserted
    )
    UPDATE alerts a SET incident_id = u.id
    FROM keyed k
    JOIN upserted u ON u.distributor_id IS NOT DISTINCT FROM k.distributor_id AND u.rule = k.rule
                   AND u.destination_region = k.destination AND u.window_start = k.window_start
    WHERE a.id = k.id;

    WITH added AS (
        SELECT a.incident_id, a.id, a.scanned_at, a.gtin, a.serial, a.sscc, a.distributor_id
        FROM alerts a WHERE a.id = ANY (ids)
    ), fresh AS (
        SELECT DISTINCT ON (d.incident_id, d.gtin, d.serial, d.sscc) d.incident_id, d.gtin, d.distributor_id
        FROM added d
        WHERE NOT EXISTS (
            SELECT 1 FROM alerts o
            WHERE o.incident_id = d.incident_id AND NOT (o.id = ANY (ids))
              AND o.gtin IS NOT DISTINCT FROM d.gtin AND o.serial IS NOT DISTINCT FROM d.serial
              AND o.sscc IS NOT DISTINCT FROM d.sscc)
    ), valued AS (
        SELECT f.incident_id, count(*) AS units, coalesce(sum(pi.unit_price), 0) AS value
        FROM fresh f
        LEFT JOIN distributors dd ON dd.id = f.distributor_id
        LEFT JOIN products p ON p.gtin = f.gtin
        LEFT JOIN price_list_items pi ON pi.price_list_id = dd.price_list_id AND pi.product_id = p.id
        GROUP BY f.incident_id
    ), counted AS (
        SELECT incident_id, count(*) AS alerts, min(scanned_at) AS first_seen, max(scanned_at) AS last_seen
        FROM added GROUP BY incident_id
    )
    UPDATE incidents i
    SET alert_count = i.alert_count + c.alerts,
        units = i.units + coalesce(v.units, 0),
        estimated_value = i.estimated_value + coalesce(v.value, 0),
        first_seen = least(i.first_seen, c.first_seen),
        last_seen = greatest(i.last_seen, c.last_seen),
        updated_at = now()
    FROM counted c LEFT JOIN valued v ON v.incident_id = c.incident_id
    WHERE i.id = c.incident_id;
    RETURN cardinality(ids);
END $$;
