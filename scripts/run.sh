#!/usr/bin/env bash
# Command 1: install what is missing, build, and run ChannelGuard with the embedded database and
# the demo brand network. Extra arguments go to `channelguard serve` (e.g. --http-port 9090).
# CONFIGURATION=debug builds faster; release (the default) is what the throughput figures use.
# The demo run accepts unsigned protocol lines from this machine (--open-network 127.0.0.0/8), so
# `channelguard send` works without a gateway secret; production gateways send signed frames.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
configuration="${CONFIGURATION:-release}"
swift build -c "$configuration" --product channelguard
exec "$(swift build -c "$configuration" --show-bin-path)/channelguard" serve --demo --open-network 127.0.0.0/8 "$@"
