#!/usr/bin/env bash
# Command 1: install what is missing, build, and run ChannelGuard with the embedded database and
# the demo brand network. Extra arguments go to `channelguard serve` (e.g. --http-port 9090).
# CONFIGURATION=debug builds faster; release (the default) is what the throughput figures use.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
configuration="${CONFIGURATION:-release}"
swift build -c "$configuration" --product channelguard
exec "$(swift build -c "$configuration" --show-bin-path)/channelguard" serve --demo "$@"
