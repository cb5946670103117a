-- ChannelGuard shared schema, version 1.
-- One schema for ingest, detection, alerts and the commerce modules. See docs/schema.md.

-- Code shapes ---------------------------------------------------------------------------------

-- GS1 modulo-10 check digit of a 14-digit GTIN (odd positions from the left weigh 3).
-- Not STRICT, so PostgreSQL inlines it (about 2 µs a row instead of 6); NULL gives NULL.
CREATE FUNCTION gtin14_is_valid(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v IS NULL THEN NULL WHEN v ~ '^[0-9]{14}$' THEN ((substr(v,1,1)::int + substr(v,3,1)::int + substr(v,5,1)::int + substr(v,7,1)::int + substr(v,9,1)::int + substr(v,11,1)::int + substr(v,13,1)::int) * 3 + substr(v,2,1)::int + substr(v,4,1)::int + substr(v,6,1)::int + substr(v,8,1)::int + substr(v,10,1)::int + substr(v,12,1)::int + substr(v,14,1)::int) % 10 = 0 ELSE false END;

-- GS1 modulo-10 check digit of an 18-digit SSCC.
CREATE FUNCTION sscc18_is_valid(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v IS NULL THEN NULL WHEN v ~ '^[0-9]{18}$' THEN ((substr(v,1,1)::int + substr(v,3,1)::int + substr(v,5,1)::int + substr(v,7,1)::int + substr(v,9,1)::int + substr(v,11,1)::int + substr(v,13,1)::int + substr(v,15,1)::int + substr(v,17,1)::int) * 3 + substr(v,2,1)::int + substr(v,4,1)::int + substr(v,6,1)::int + substr(v,8,1)::int + substr(v,10,1)::int + substr(v,12,1)::int + substr(v,14,1)::int + substr(v,16,1)::int + substr(v,18,1)::int) % 10 = 0 ELSE false END;

-- A GB/T 2260 code: 2 digits province (not 00), 2 city, 2 county; a county part needs a city part.
CREATE DOMAIN region_code AS char(6)
    CHECK (VALUE ~ '^[1-9][0-9]{5}$' AND NOT (substr(VALUE, 3, 2) = '00' AND substr(VALUE, 5, 2) <> '00'));
CREATE DOMAIN gtin14 AS char(14) CHECK (gtin14_is_valid(VALUE));
CREATE DOMAIN sscc18 AS char(18) CHECK (sscc18_is_valid(VALUE));
-- AI (21) serial: 1 to 20 characters of GS1 character set 82.
CREATE DOMAIN gs1_serial AS text CHECK (VALUE ~ '^[!"%-?A-Z_a-z]{1,20}$');
CREATE DOMAIN money_amount AS numeric(14, 2);

-- The significant digits of a region code: 2 for a province, 4 for a city, 6 for a county.
CREATE FUNCTION region_prefix_of(code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN substr(code, 3, 4) = '0000' THEN substr(code, 1, 2)
            WHEN substr(code, 5, 2) = '00' THEN substr(code, 1, 4)
            ELSE substr(code, 1, 6) END;

CREATE FUNCTION distributor_tier_rank(tier text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE tier WHEN 'hq' THEN 0 WHEN 'provincial_agent' THEN 1 WHEN 'city_dealer' THEN 2 WHEN 'store' THEN 3 END;

-- Regions ---------------------------------------------------------------------------------------

CREATE TABLE regions (
    code        region_code PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    level       smallint GENERATED ALWAYS AS (
                    CASE WHEN substr(code, 3, 4) = '0000' THEN 1 WHEN substr(code, 5, 2) = '00' THEN 2 ELSE 3 END
                ) STORED,
    parent_code char(6) GENERATED ALWAYS AS (
                    CASE WHEN substr(code, 3, 4) = '0000' THEN NULL
                         WHEN substr(code, 5, 2) = '00' THEN (substr(code, 1, 2) || '0000')::char(6)
                         ELSE (substr(code, 1, 4) || '00')::char(6) END
                ) STORED REFERENCES regions (code) DEFERRABLE INITIALLY DEFERRED,
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    CHECK ((longitude IS NULL) = (latitude IS NULL))
);
CREATE INDEX regions_parent_idx ON regions (parent_code);

-- Prices and the distributor tree ----------------------------------------------------------------

CREATE TABLE price_lists (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name       text NOT NULL,
    currency   char(3) NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    valid_from date NOT NULL DEFAULT current_date,
    valid_to   date CHECK (valid_to > valid_from)
);

CREATE TABLE distributors (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name          text NOT NULL CHECK (name <> ''),
    tier          text NOT NULL CHECK (tier IN ('hq', 'provincial_agent', 'city_dealer', 'store')),
    parent_id     bigint REFERENCES distributors (id),
    -- ids from the root to this distributor; maintained by a trigger, never written by hand.
    path          bigint[] NOT NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated')),
    home_region   region_code REFERENCES regions (code),
    credit_limit  money_amount NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    price_list_id bigint REFERENCES price_lists (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT distributors_root_is_hq CHECK ((tier = 'hq') = (parent_id IS NULL)),
    CONSTRAINT distributors_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX distributors_parent_idx ON distributors (parent_id);
CREATE INDEX distributors_path_idx ON distributors USING gin (path);

-- Keeps path = parent's path || id, and refuses cycles and tiers out of order.
CREATE FUNCTION distributors_maintain_path() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_path bigint[];
    parent_tier text;
BEGIN
    IF NEW.parent_id IS NULL THEN
        NEW.path := ARRAY[NEW.id];
        RETURN NEW;
    END IF;
    SELECT path, tier INTO parent_path, parent_tier FROM distributors WHERE id = NEW.parent_id;
    IF NOT FOUND THEN
        NEW.path := ARRAY[NEW.id];  -- the foreign key rejects the row
        RETURN NEW;
    END IF;
    IF NEW.id = ANY (parent_path) THEN
        RAISE EXCEPTION 'distributor % cannot be its own ancestor', NEW.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'distributors_no_cycle';
    END IF;
    IF distributor_tier_rank(parent_tier) >= distributor_tier_rank(NEW.tier) THEN
        RAISE EXCEPTION 'a % cannot be placed under a %', NEW.tier, parent_tier
            USING ERRCODE = 'check_violation', CONSTRAINT = 'distributors_tier_order';
    END IF;
    NEW.path := parent_path || NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER distributors_path BEFORE INSERT OR UPDATE ON distributors
    FOR EACH ROW EXECUTE FUNCTION distributors_maintain_path();

-- When a distributor moves, its subtree's paths follow.
CREATE FUNCTION distributors_cascade_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distributors SET parent_id = parent_id WHERE parent_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER distributors_path_cascade AFTER UPDATE ON distributors
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION distributors_cascade_path();

-- Dated territory grants: a distributor may sell in every region under region_code.
CREATE TABLE territory_grants (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    distributor_id bigint NOT NULL REFERENCES distributors (id) ON DELETE CASCADE,
    region_code    region_code NOT NULL REFERENCES regions (code),
    region_prefix  text GENERATED ALWAYS AS (region_prefix_of(region_code)) STORED,
    kind           text NOT NULL DEFAULT 'primary' CHECK (kind IN ('primary', 'temporary')),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT territory_grants_temporary_ends CHECK (kind = 'primary' OR valid_to IS NOT NULL),
    UNIQUE (distributor_id, region_code, valid_from)
);
CREATE INDEX territory_grants_prefix_idx ON territory_grants (region_prefix, valid_from);

-- Accounts ----------------------------------------------------------------------------------------

CREATE TABLE roles (
    name        text PRIMARY KEY,
    description text NOT NULL
);
INSERT INTO roles (name, description) VALUES
    ('admin', 'Everything, including accounts, tokens, gateways and reference data.'),
    ('compliance', 'Alerts and incidents: read, assign, investigate, confirm or dismiss.'),
    ('hq_analyst', 'Read-only access to audits, rollups, alerts and commerce data.'),
    ('distributor', 'A distributor''s own subtree only: orders, prices, rebates, stock.');

CREATE TABLE accounts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    display_name   text NOT NULL,
    role           text NOT NULL REFERENCES roles (name),
    distributor_id bigint REFERENCES distributors (id),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_distributor_scope CHECK ((role = 'distributor') = (distributor_id IS NOT NULL))
);

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- the first characters of the token, to tell tokens apart; the token itself is never stored.
    token_prefix text NOT NULL CHECK (length(token_prefix) BETWEEN 4 AND 16),
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),  -- SHA-256
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX api_tokens_account_idx ON api_tokens (account_id);

-- Products and prices -----------------------------------------------------------------------------

CREATE TABLE products (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gtin           gtin14 NOT NULL UNIQUE,
    sku            text NOT NULL UNIQUE CHECK (sku <> ''),
    name           text NOT NULL CHECK (name <> ''),
    category       text NOT NULL CHECK (category <> ''),
    unit           text NOT NULL DEFAULT 'each' CHECK (unit IN ('each', 'pair', 'set', 'box', 'case', 'kg', 'litre', 'm', 'm2')),
    units_per_case integer NOT NULL DEFAULT 1 CHECK (units_per_case > 0),
    serialised     boolean NOT NULL DEFAULT true,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON products (category);

CREATE TABLE price_list_items (
    price_list_id bigint NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products (id),
    unit_price    money_amount NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (price_list_id, product_id)
);

-- Price floors for sale scans; region_code NULL means nationwide, a region overrides it.
CREATE TABLE minimum_retail_prices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id),
    region_code region_code REFERENCES regions (code),
    min_price   money_amount NOT NULL CHECK (min_price >= 0),
    valid_from  date NOT NULL,
    valid_to    date CHECK (valid_to > valid_from),
    UNIQUE NULLS NOT DISTINCT (product_id, region_code, valid_from)
);

-- Warehouses and orders ---------------------------------------------------------------------------

CREATE TABLE warehouses (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name           text NOT NULL,
    distributor_id bigint NOT NULL REFERENCES distributors (id),
    region_code    region_code NOT NULL REFERENCES regions (code),
    active         boolean NOT NULL DEFAULT true
);
CREATE INDEX warehouses_distributor_idx ON warehouses (distributor_id);

CREATE TABLE orders (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number               text NOT NULL UNIQUE,
    distributor_id       bigint NOT NULL REFERENCES distributors (id),
    supplier_id          bigint NOT NULL REFERENCES distributors (id),
    price_list_id        bigint REFERENCES price_lists (id),
    placed_by_account_id bigint REFERENCES accounts (id),
    status               text NOT NULL DEFAULT 'draft' CHECK (status IN
                             ('draft', 'submitted', 'approved', 'rejected', 'allocated', 'shipped', 'delivered', 'cancelled')),
    currency             char(3) NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    total_amount         money_amount NOT NULL DEFAULT 0 CHECK (total_amount >= 0),
    placed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (distributor_id <> supplier_id),
    CHECK (status = 'draft' OR placed_at IS NOT NULL)
);
CREATE INDEX orders_distributor_idx ON orders (distributor_id, created_at);
CREATE INDEX orders_supplier_idx ON orders (supplier_id, status);

CREATE TABLE order_lines (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no    smallint NOT NULL CHECK (line_no > 0),
    product_id bigint NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price money_amount NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- The order workflow: one row per status change.
CREATE TABLE order_steps (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint REFERENCES accounts (id),
    from_status text,
    to_status   text NOT NULL,
    note        text
);
CREATE INDEX order_steps_order_idx ON order_steps (order_id, at);

-- Shipments and serial bindings -------------------------------------------------------------------

CREATE TABLE shipments (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text NOT NULL UNIQUE,
    from_distributor_id bigint NOT NULL REFERENCES distributors (id),
    to_distributor_id   bigint NOT NULL REFERENCES distributors (id),
    order_id            bigint REFERENCES orders (id),
    from_warehouse_id   bigint REFERENCES warehouses (id),
    -- 'sale': goods sold down the tree; 'transfer': an approved move between distributors
    -- (see transfers); 'return': goods coming back up.
    kind                text NOT NULL DEFAULT 'sale' CHECK (kind IN ('sale', 'transfer', 'return')),
    transfer_id         bigint,
    shipped_at          timestamptz NOT NULL,
    status              text NOT NULL DEFAULT 'in_transit' CHECK (status IN ('in_transit', 'delivered', 'cancelled')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (from_distributor_id <> to_distributor_id),
    CONSTRAINT shipments_transfer_kind CHECK ((kind = 'transfer') = (transfer_id IS NOT NULL))
);
CREATE INDEX shipments_to_idx ON shipments (to_distributor_id, shipped_at);
CREATE INDEX shipments_from_idx ON shipments (from_distributor_id, shipped_at);

-- Bindings: a serial, a carton or a printed run belongs to the consignee of the shipment that
-- carried it (shipments.to_distributor_id). Rebinding (an approved transfer) points the binding at
-- the transfer's shipment. Keeping the owner only on the shipment spares the largest table a
-- column, an index and a foreign-key check per row (the bulk-load cost is in docs/schema.md).

-- Logistic units (SSCC): a carton, or a pallet of cartons.
CREATE TABLE cartons (
    sscc        sscc18 PRIMARY KEY,
    parent_sscc sscc18 REFERENCES cartons (sscc),
    gtin        gtin14 REFERENCES products (gtin),
    shipment_id bigint NOT NULL REFERENCES shipments (id),
    bound_at    timestamptz NOT NULL,
    CHECK (parent_sscc IS DISTINCT FROM sscc)
);
CREATE INDEX cartons_shipment_idx ON cartons (shipment_id);
CREATE INDEX cartons_parent_idx ON cartons (parent_sscc) WHERE parent_sscc IS NOT NULL;

-- Exact serials. gtin is checked through its foreign key: products.gtin carries the check digit.
CREATE TABLE serial_bindings (
    gtin        char(14) NOT NULL REFERENCES products (gtin),
    serial      gs1_serial NOT NULL,
    shipment_id bigint NOT NULL REFERENCES shipments (id),
    carton_sscc sscc18 REFERENCES cartons (sscc),
    bound_at    timestamptz NOT NULL,
    PRIMARY KEY (gtin, serial)
);
CREATE INDEX serial_bindings_shipment_idx ON serial_bindings (shipment_id);
CREATE INDEX serial_bindings_carton_idx ON serial_bindings (carton_sscc) WHERE carton_sscc IS NOT NULL;

-- A printed run of serials shipped together: every serial starting with serial_prefix.
CREATE TABLE serial_range_bindings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gtin          gtin14 NOT NULL REFERENCES products (gtin),
    serial_prefix gs1_serial NOT NULL,
    unit_count    integer CHECK (unit_count > 0),
    shipment_id   bigint NOT NULL REFERENCES shipments (id),
    bound_at      timestamptz NOT NULL,
    UNIQUE (gtin, serial_prefix)
);
CREATE INDEX serial_range_bindings_shipment_idx ON serial_range_bindings (shipment_id);

-- Each exact serial with its current owner.
CREATE VIEW serial_owners AS
SELECT b.gtin, b.serial, s.to_distributor_id AS distributor_id, b.shipment_id, b.carton_sscc, b.bound_at
FROM serial_bindings b JOIN shipments s ON s.id = b.shipment_id;

-- Stock, transfers and credit ---------------------------------------------------------------------

CREATE TABLE stock_levels (
    warehouse_id bigint NOT NULL REFERENCES warehouses (id),
    product_id   bigint NOT NULL REFERENCES products (id),
    on_hand      integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, product_id),
    CHECK (reserved <= on_hand)
);

-- An approved move of goods between distributors: it rebinds serials and never raises alerts.
CREATE TABLE transfers (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                   text NOT NULL UNIQUE,
    from_distributor_id    bigint NOT NULL REFERENCES distributors (id),
    to_distributor_id      bigint NOT NULL REFERENCES distributors (id),
    from_warehouse_id      bigint REFERENCES warehouses (id),
    to_warehouse_id        bigint REFERENCES warehouses (id),
    status                 text NOT NULL DEFAULT 'requested'
                               CHECK (status IN ('requested', 'approved', 'rejected', 'completed', 'cancelled')),
    reason                 text,
    requested_at           timestamptz NOT NULL DEFAULT now(),
    requested_by           bigint REFERENCES accounts (id),
    decided_at             timestamptz,
    decided_by             bigint REFERENCES accounts (id),
    CHECK (from_distributor_id <> to_distributor_id),
    CHECK (status IN ('requested', 'cancelled') OR decided_at IS NOT NULL)
);
CREATE INDEX transfers_from_idx ON transfers (from_distributor_id, requested_at);
CREATE INDEX transfers_to_idx ON transfers (to_distributor_id, requested_at);

ALTER TABLE shipments ADD CONSTRAINT shipments_transfer_fk FOREIGN KEY (transfer_id) REFERENCES transfers (id);

CREATE TABLE transfer_items (
    transfer_id bigint NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    item_no     integer NOT NULL CHECK (item_no > 0),
    product_id  bigint NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    gtin        gtin14,
    serial      gs1_serial,
    sscc        sscc18,
    PRIMARY KEY (transfer_id, item_no),
    CHECK (serial IS NULL OR (gtin IS NOT NULL AND quantity = 1))
);

CREATE TABLE stock_movements (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id bigint NOT NULL REFERENCES warehouses (id),
    product_id   bigint NOT NULL REFERENCES products (id),
    at           timestamptz NOT NULL DEFAULT now(),
    quantity     integer NOT NULL CHECK (quantity <> 0),
    reason       text NOT NULL CHECK (reason IN ('receipt', 'shipment', 'transfer_in', 'transfer_out', 'return', 'sale', 'adjustment')),
    shipment_id  bigint REFERENCES shipments (id),
    transfer_id  bigint REFERENCES transfers (id),
    order_id     bigint REFERENCES orders (id),
    note         text
);
CREATE INDEX stock_movements_warehouse_idx ON stock_movements (warehouse_id, product_id, at);

-- Gateways and the event log ----------------------------------------------------------------------

CREATE TABLE gateways (
    id                   integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY CHECK (id > 0),
    code                 text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name                 text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('warehouse_pda', 'store_pos', 'consumer_backend', 'inspector_app')),
    -- the key for HMAC-SHA256 frame authentication
    secret               bytea NOT NULL CHECK (octet_length(secret) BETWEEN 16 AND 64),
    owner_distributor_id bigint NOT NULL REFERENCES distributors (id),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE scan_batches_id_seq;

-- One row per flushed batch of scan events: the event log, zstd-compressed, partitioned by day.
CREATE TABLE scan_batches (
    id             bigint NOT NULL DEFAULT nextval('scan_batches_id_seq'),
    flushed_at     timestamptz NOT NULL DEFAULT now(),
    node           text NOT NULL DEFAULT '',
    shard          smallint NOT NULL CHECK (shard >= 0),
    format_version smallint NOT NULL CHECK (format_version > 0),
    codec          text NOT NULL DEFAULT 'zstd' CHECK (codec IN ('zstd', 'none')),
    event_count    integer NOT NULL CHECK (event_count > 0),
    alert_count    integer NOT NULL DEFAULT 0 CHECK (alert_count >= 0),
    first_scan_at  timestamptz NOT NULL,
    last_scan_at   timestamptz NOT NULL,
    raw_bytes      integer NOT NULL CHECK (raw_bytes >= 0),
    payload        bytea NOT NULL,
    PRIMARY KEY (id, flushed_at),
    CHECK (last_scan_at >= first_scan_at)
) PARTITION BY RANGE (flushed_at);
ALTER SEQUENCE scan_batches_id_seq OWNED BY scan_batches.id;
CREATE INDEX scan_batches_scan_time_idx ON scan_batches (first_scan_at, last_scan_at);
-- Rows outside every day partition land here instead of failing; ensure_scan_batch_partitions
-- keeps it empty in normal operation.
CREATE TABLE scan_batches_default PARTITION OF scan_batches DEFAULT;
ALTER TABLE scan_batches_default ALTER COLUMN payload SET STORAGE EXTERNAL;

-- Creates the day partitions scan_batches_YYYYMMDD for [first_day, first_day + days).
CREATE FUNCTION ensure_scan_batch_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
    name text;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        name := 'scan_batches_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF scan_batches FOR VALUES FROM (%L) TO (%L)',
                           name, day::timestamptz, (day + 1)::timestamptz);
            -- payloads are already compressed: skip PostgreSQL's own compression
            EXECUTE format('ALTER TABLE %I ALTER COLUMN payload SET STORAGE EXTERNAL', name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;
SELECT ensure_scan_batch_partitions(current_date - 1, 9);

-- The highest frame sequence stored per gateway stream, written in the batch's transaction.
CREATE TABLE gateway_offsets (
    gateway_id    integer NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    stream_id     bigint NOT NULL DEFAULT 0,
    last_sequence bigint NOT NULL CHECK (last_sequence >= 0),
    last_batch_id bigint,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gateway_id, stream_id)
);

CREATE TABLE scan_rollups_hourly (
    hour           timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
    distributor_id bigint NOT NULL REFERENCES distributors (id),
    city_code      region_code NOT NULL REFERENCES regions (code),
    gtin           gtin14 NOT NULL,
    step           text NOT NULL CHECK (step IN ('ship', 'receive', 'sell', 'activate', 'inspect', 'return')),
    in_territory   boolean NOT NULL,
    scans          bigint NOT NULL CHECK (scans >= 0),
    PRIMARY KEY (hour, distributor_id, city_code, gtin, step, in_territory)
);
CREATE INDEX scan_rollups_distributor_idx ON scan_rollups_hourly (distributor_id, hour);
CREATE INDEX scan_rollups_city_idx ON scan_rollups_hourly (city_code, hour);

-- Alerts and incidents ----------------------------------------------------------------------------

CREATE TABLE incidents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    distributor_id      bigint REFERENCES distributors (id),
    rule                text NOT NULL CHECK (rule IN ('out_of_territory', 'unknown_code', 'duplicate', 'not_consignee', 'price_below_floor')),
    destination_region  region_code REFERENCES regions (code),
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    severity            text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'investigating', 'confirmed', 'dismissed')),
    units               integer NOT NULL DEFAULT 0 CHECK (units >= 0),
    alert_count         integer NOT NULL DEFAULT 0 CHECK (alert_count >= 0),
    first_seen          timestamptz,
    last_seen           timestamptz,
    estimated_value     money_amount NOT NULL DEFAULT 0 CHECK (estimated_value >= 0),
    assignee_account_id bigint REFERENCES accounts (id),
    penalty_amount      money_amount CHECK (penalty_amount >= 0),
    dismissal_reason    text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start),
    CHECK (last_seen >= first_seen),
    CONSTRAINT incidents_dismissal_has_reason CHECK (status <> 'dismissed' OR dismissal_reason IS NOT NULL),
    CONSTRAINT incidents_penalty_when_confirmed CHECK (status = 'confirmed' OR penalty_amount IS NULL),
    UNIQUE NULLS NOT DISTINCT (distributor_id, rule, destination_region, window_start)
);
CREATE INDEX incidents_status_idx ON incidents (status, last_seen);
CREATE INDEX incidents_distributor_idx ON incidents (distributor_id, window_start);

CREATE TABLE alerts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule                text NOT NULL CHECK (rule IN ('out_of_territory', 'unknown_code', 'duplicate', 'not_consignee', 'price_below_floor')),
    severity            text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    detected_at         timestamptz NOT NULL DEFAULT now(),
    scanned_at          timestamptz NOT NULL,
    step                text NOT NULL CHECK (step IN ('ship', 'receive', 'sell', 'activate', 'inspect', 'return')),
    gtin                gtin14,
    serial              gs1_serial,
    sscc                sscc18,
    distributor_id      bigint REFERENCES distributors (id),
    scan_party_id       bigint REFERENCES distributors (id),
    scan_region         region_code NOT NULL REFERENCES regions (code),
    distance_km         real CHECK (distance_km >= 0),
    price               money_amount,
    gateway_id          integer REFERENCES gateways (id),
    device              text,
    batch_id            bigint,
    incident_id         bigint REFERENCES incidents (id),
    evidence            jsonb NOT NULL DEFAULT '{}',
    CHECK (gtin IS NOT NULL OR sscc IS NOT NULL)
);
CREATE INDEX alerts_detected_idx ON alerts (detected_at);
CREATE INDEX alerts_distributor_idx ON alerts (distributor_id, detected_at);
CREATE INDEX alerts_rule_idx ON alerts (rule, detected_at);
CREATE INDEX alerts_region_idx ON alerts (scan_region, detected_at);
CREATE INDEX alerts_incident_idx ON alerts (incident_id);
CREATE INDEX alerts_serial_idx ON alerts (gtin, serial);

-- The audit trail of an incident: every change and comment, who and when.
CREATE TABLE incident_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint REFERENCES accounts (id),
    action      text NOT NULL CHECK (action IN ('created', 'alerts_added', 'status_changed', 'assigned', 'commented', 'penalty_set')),
    from_status text,
    to_status   text,
    comment     text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, at);

CREATE TABLE credit_ledger (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    distributor_id bigint NOT NULL REFERENCES distributors (id),
    at             timestamptz NOT NULL DEFAULT now(),
    kind           text NOT NULL CHECK (kind IN ('order_charge', 'payment', 'credit_note', 'rebate_credit', 'penalty', 'adjustment')),
    -- positive draws on the credit line, negative restores it
    amount         money_amount NOT NULL CHECK (amount <> 0),
    order_id       bigint REFERENCES orders (id),
    incident_id    bigint REFERENCES incidents (id),
    note           text
);
CREATE INDEX credit_ledger_distributor_idx ON credit_ledger (distributor_id, at);

-- Rebates -----------------------------------------------------------------------------------------

CREATE TABLE rebate_programmes (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                     text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name                     text NOT NULL,
    basis                    text NOT NULL CHECK (basis IN ('units', 'revenue')),
    tier                     text CHECK (tier IN ('provincial_agent', 'city_dealer', 'store')),
    product_category         text,
    -- a confirmed diversion incident in the period forfeits the rebate
    requires_clean_territory boolean NOT NULL DEFAULT true,
    status                   text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'closed')),
    valid_from               date NOT NULL,
    valid_to                 date NOT NULL,
    CHECK (valid_to > valid_from)
);

CREATE TABLE rebate_tiers (
    programme_id bigint NOT NULL REFERENCES rebate_programmes (id) ON DELETE CASCADE,
    threshold    numeric(16, 2) NOT NULL CHECK (threshold >= 0),
    rate         numeric(6, 5) NOT NULL CHECK (rate >= 0 AND rate <= 1),
    PRIMARY KEY (programme_id, threshold)
);

CREATE TABLE rebate_accruals (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id   bigint NOT NULL REFERENCES rebate_programmes (id),
    distributor_id bigint NOT NULL REFERENCES distributors (id),
    period_start   date NOT NULL,
    period_end     date NOT NULL,
    basis_amount   numeric(16, 2) NOT NULL CHECK (basis_amount >= 0),
    rate           numeric(6, 5) NOT NULL CHECK (rate >= 0 AND rate <= 1),
    amount         money_amount NOT NULL CHECK (amount >= 0),
    status         text NOT NULL DEFAULT 'accrued' CHECK (status IN ('accrued', 'approved', 'paid', 'forfeited')),
    computed_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    UNIQUE (programme_id, distributor_id, period_start)
);
CREATE INDEX rebate_accruals_distributor_idx ON rebate_accruals (distributor_id, period_start);

CREATE TABLE rebate_ledger (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    distributor_id bigint NOT NULL REFERENCES distributors (id),
    programme_id   bigint REFERENCES rebate_programmes (id),
    accrual_id     bigint REFERENCES rebate_accruals (id),
    at             timestamptz NOT NULL DEFAULT now(),
    kind           text NOT NULL CHECK (kind IN ('accrual', 'payout', 'clawback', 'adjustment')),
    amount         money_amount NOT NULL CHECK (amount <> 0),
    note           text
);
CREATE INDEX rebate_ledger_distributor_idx ON rebate_ledger (distributor_id, at);
