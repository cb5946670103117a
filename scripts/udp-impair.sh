#!/usr/bin/env bash
# UDP through a relay that reorders 5 % and duplicates 1 % of datagrams (scripts/udp-impair-relay.py;
# `tc netem` needs the kernel's sch_netem, which this machine's kernel lacks): nothing may be lost
# to reordering, nothing counted twice.
#   scripts/udp-impair.sh [TRANSPORT] [RATE] [SECONDS]   # defaults: udp 200000 30 (udp1 for one event a datagram)
# Starts a release `serve --demo --serials 1000000` in a data directory of its own under /tmp, sends
# `loadgen` through the relay, and compares the events stored with the events sent (exactly: a
# reordered datagram dropped would show as fewer, a duplicate stored as more), beside the relay's
# tallies and the daemon's own counts of duplicates recognised and frames below the window.
# Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
transport="${1:-udp}"; rate="${2:-200000}"; seconds="${3:-30}"
swift build -c release --product channelguard >/dev/null
bin="$(swift build -c release --show-bin-path)/channelguard"
dir=$(mktemp -d /tmp/channelguard-impair-XXXXXX)
chmod 755 "$dir"
http=$((20000 + RANDOM % 20000)); udp=$((http + 1)); relay=$((http + 2))
serve_pid=""; relay_pid=""
cleanup() {
  [ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null || true
  [ -z "$serve_pid" ] || { kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" serve --data-dir "$dir/data" --demo --serials 1000000 --http-port "$http" --udp-port "$udp" \
  --tcp-port=-1 --udp-sockets 2 --flush-ms 50 --log-level warning > "$dir/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do grep -q "Ingest " "$dir/serve.log" && break; sleep 1; done
python3 scripts/udp-impair-relay.py "$relay" "$udp" 0.05 0.01 7 > "$dir/relay.out" &
relay_pid=$!
for _ in $(seq 50); do grep -q ready "$dir/relay.out" && break; sleep 0.1; done
"$bin" loadgen --data-dir "$dir/data" --to "127.0.0.1:$relay" --json --transport "$transport" \
  --seconds "$seconds" --connections 2 --rate "$rate" > "$dir/load.json" 2> "$dir/load.err" || true
wait "$relay_pid" || true
relay_pid=""
sleep 3
curl -s "http://127.0.0.1:$http/metrics" > "$dir/metrics.txt"
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
load = json.loads(open(f"{d}/load.json").read().strip().splitlines()[-1])
relay = json.loads(open(f"{d}/relay.out").read().strip().splitlines()[-1])
metrics = {line.split()[0]: float(line.split()[1]) for line in open(f"{d}/metrics.txt")
           if line and not line.startswith("#") and len(line.split()) == 2}
print(json.dumps({
    "transport": load.get("transport"), "events_sent": load.get("events_sent"),
    "events_durable": load.get("events_durable"), "relay": relay,
    "duplicate_frames_recognised": metrics.get("channelguard_duplicate_frames_total"),
    "frames_below_window": metrics.get("channelguard_frames_below_window_total"),
    "diversions_injected": load.get("diversions_injected"), "diversions_alerted": load.get("diversions_alerted"),
    "false_alerts": load.get("false_alerts"),
}))
PY
