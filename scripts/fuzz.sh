#!/usr/bin/env bash
# Fuzzes the decoders with libFuzzer for a bounded time each.
#   scripts/fuzz.sh                 # every target, 600 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh code line
# Builds channelguard-fuzz with -sanitize=fuzzer (and address) in .build-fuzz, runs each target on
# a copy of its seed corpus (Fuzz/corpus/TARGET), and stops at the first crash, whose input
# libFuzzer writes to Fuzz/crashes/. Exit status 0 only when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-600}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(code line frame records snapshot logbatch)

swift build --scratch-path .build-fuzz -c release --product channelguard-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xlinker --export-dynamic
binary="$(swift build --scratch-path .build-fuzz -c release --show-bin-path)/channelguard-fuzz"

mkdir -p Fuzz/crashes
export SWIFT_BACKTRACE=enable=no  # let libFuzzer write the crashing input
for target in "${targets[@]}"; do
  work=$(mktemp -d)
  cp Fuzz/corpus/"$target"/* "$work"/
  echo "fuzz: $target for ${seconds}s"
  "$binary" "$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=Fuzz/crashes/"$target"- -print_final_stats=1 "$work"
  rm -rf "$work"
done
