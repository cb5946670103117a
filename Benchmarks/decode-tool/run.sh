#!/usr/bin/env bash
# Times `channelguard decode` on a file of element strings, whole process, in rounds; with a second
# binary, the two interleaved (A B A B …) so both see the same machine.
#   Benchmarks/decode-tool/run.sh BINARY [OTHER_BINARY] [LINES] [ROUNDS]
set -euo pipefail
a="$1"; b="${2:-}"; lines="${3:-1000000}"; rounds="${4:-5}"
file="/tmp/channelguard-codes-$lines.txt"
[ -s "$file" ] || python3 "$(dirname "$0")/codes.py" "$lines" > "$file"
run() {
  local start end
  start=$(date +%s.%N)
  "$1" decode "$file" > /dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$lines" -v name="$2" 'BEGIN { t = e - s; printf "%s %.3f s %.2f M lines/s\n", name, t, n / t / 1e6 }'
}
for _ in $(seq "$rounds"); do
  run "$a" A
  [ -z "$b" ] || run "$b" B
done
