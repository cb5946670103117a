#!/usr/bin/env bash
# Measures what each constraint on serial_bindings costs in a bulk binary COPY, side by side in one
# run: the same rows into temporary tables with more and more of the real table's constraints.
# Needs a database with demo serials: `channelguard demo-data --serials 1000000`.
# Usage: Benchmarks/bulk-load/constraint-costs.sh [DATABASE_URL] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
url="${1:-$("$(swift build --show-bin-path)/channelguard" db url | tail -1)}"
rows="${2:-500000}"
dump=$(mktemp /tmp/cg-bindings-XXXXXX.bin)
chmod 0644 "$dump"
trap 'rm -f "$dump"' EXIT
# The server writes the file, so it goes through psql's \copy to stay on the client side.
psql "$url" -qX -c "\\copy (SELECT gtin, serial, shipment_id, bound_at FROM serial_bindings LIMIT $rows) TO '$dump' (FORMAT binary)"
psql "$url" -qX -v ON_ERROR_STOP=1 <<SQL
\\timing on
\\echo 'plain columns, no constraints'
CREATE TEMP TABLE c0 (gtin char(14), serial text, shipment_id bigint, bound_at timestamptz);
\\copy c0 FROM '$dump' (FORMAT binary)
\\echo '+ gs1_serial domain (CSET 82 regex)'
CREATE TEMP TABLE c1 (gtin char(14), serial gs1_serial, shipment_id bigint, bound_at timestamptz);
\\copy c1 FROM '$dump' (FORMAT binary)
\\echo '+ gtin14 domain (check digit) as well'
CREATE TEMP TABLE c2 (gtin gtin14, serial gs1_serial, shipment_id bigint, bound_at timestamptz);
\\copy c2 FROM '$dump' (FORMAT binary)
\\echo 'plain columns + primary key (gtin, serial)'
CREATE TEMP TABLE c3 (gtin char(14), serial text, shipment_id bigint, bound_at timestamptz, PRIMARY KEY (gtin, serial));
\\copy c3 FROM '$dump' (FORMAT binary)
\\echo 'plain columns + foreign keys to products and shipments'
CREATE TABLE bench_c4 (gtin char(14) REFERENCES products (gtin), serial text, shipment_id bigint REFERENCES shipments (id), bound_at timestamptz);
\\copy bench_c4 FROM '$dump' (FORMAT binary)
DROP TABLE bench_c4;
SQL
