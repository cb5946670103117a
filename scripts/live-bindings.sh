#!/usr/bin/env bash
# Measures how soon a shipment bound while the daemon runs under load is checked.
#   scripts/live-bindings.sh [UNITS] [RATE]      # defaults: 100000 units, 200000 events/s
# Starts a release `channelguard serve --demo --serials 1000000` in a data directory of its own
# (under /tmp, removed at the end), drives it with `loadgen` over TCP for 40 s, and 15 s in commits
# one transaction binding UNITS new serials (a new shipment to a demo dealer). It then reads
# /metrics every 20 ms until the daemon's channelguard_binding_changes_applied reaches the
# transaction's change: the unchecked window is from the COMMIT returning to that. Finally it sends
# an inspect scan of ten of the new units in their dealer's own region and checks that none raised
# unknown_code. Prints one JSON line; loadgen's summary is in the data directory's load.json.
set -euo pipefail
cd "$(dirname "$0")/.."
units="${1:-100000}"
rate="${2:-200000}"
swift build -c release --product channelguard >/dev/null
bin="$(swift build -c release --show-bin-path)/channelguard"
dir=$(mktemp -d /tmp/channelguard-live-XXXXXX)
chmod 755 "$dir"
http=$((20000 + RANDOM % 20000))
tcp=$((http + 1))
serve_pid=""
cleanup() {
  [ -z "$serve_pid" ] || { kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" serve --data-dir "$dir/data" --demo --serials 1000000 --http-port "$http" --tcp-port "$tcp" \
  --udp-port=-1 --flush-ms 50 --open-network 127.0.0.0/8 --log-level warning > "$dir/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do grep -q "Ingest    tcp://" "$dir/serve.log" && break; sleep 1; done
grep -q "Ingest    tcp://" "$dir/serve.log" || { cat "$dir/serve.log" >&2; exit 1; }
url=$("$bin" db url --data-dir "$dir/data" | tail -1)
"$bin" loadgen --data-dir "$dir/data" --to "127.0.0.1:$tcp" --json --transport tcp --seconds 40 \
  --connections 2 --rate "$rate" > "$dir/load.json" 2> "$dir/load.err" &
load_pid=$!
sleep 15
applied() { curl -s "http://127.0.0.1:$http/metrics" | awk '$1 == "channelguard_binding_changes_applied" { print $2 }'; }
sql="
BEGIN;
INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
  SELECT 'LIVE-TRUCK', (SELECT id FROM distributors WHERE parent_id IS NULL ORDER BY id LIMIT 1), d.id, now()
  FROM distributors d WHERE d.tier = 'city_dealer' ORDER BY d.id LIMIT 1;
INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
  SELECT (SELECT gtin FROM products ORDER BY id LIMIT 1), 'LT' || lpad(n::text, 8, '0'), s.id, now()
  FROM shipments s, generate_series(1, $units) n WHERE s.code = 'LIVE-TRUCK';
COMMIT;
SELECT max(seq) FROM binding_changes;"
started=$(date +%s%N)
seq=$(psql -qtA "$url" -c "$sql" | tail -1)
committed=$(date +%s%N)
while [ "$(applied)" -lt "$seq" ]; do sleep 0.02; done
checked=$(date +%s%N)
wait "$load_pid"
# Ten of the new units scanned where their dealer sells: none may be unknown.
region=$(psql -qtA "$url" -c "SELECT g.region_code FROM territory_grants g JOIN shipments s ON s.to_distributor_id = g.distributor_id WHERE s.code = 'LIVE-TRUCK' ORDER BY g.region_code LIMIT 1")
gtin=$(psql -qtA "$url" -c "SELECT gtin FROM products ORDER BY id LIMIT 1")
for n in $(seq 1 $((units / 10)) "$units"); do
  printf 'inspect %s %s (01)%s(21)LT%08d\n' "$region" "$(date +%s%3N)" "$gtin" "$n"
done | "$bin" send --to "127.0.0.1:$tcp" >/dev/null
sleep 2
unknown=$(psql -qtA "$url" -c "SELECT count(*) FROM alerts WHERE rule = 'unknown_code' AND serial LIKE 'LT%'")
python3 - "$dir/load.json" <<PY
import json, sys
load = json.load(open(sys.argv[1]))
print(json.dumps({
    "units": $units, "rate": $rate,
    "transaction_ms": round(($committed - $started) / 1e6, 1),
    "commit_to_checked_ms": round(($checked - $committed) / 1e6, 1),
    "unknown_code_after": int("$unknown"),
    "load_events_per_s": load.get("events_per_s"),
    "load_loss_ratio": load.get("loss_ratio"),
    "load_alert_p99_ms": load.get("alert_p99_ms"),
    "load_false_alerts": load.get("false_alerts"),
}))
PY
