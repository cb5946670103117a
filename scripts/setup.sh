#!/usr/bin/env bash
# Installs what ChannelGuard needs and this machine lacks (Debian/Ubuntu packages).
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
have_pkgconfig() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
have_pkgconfig libzstd || need+=(libzstd-dev)
have_pkgconfig libpq || need+=(libpq-dev)
# Gateway frames are signed with HMAC-SHA256 through OpenSSL's libcrypto (FrameKey).
have_pkgconfig libcrypto || need+=(libssl-dev)
# The embedded database needs the server programs (initdb, pg_ctl, postgres).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# The tests open the HTML audit report in headless Chromium to see its charts render.
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

command -v swift >/dev/null 2>&1 || {
  echo "setup: the Swift toolchain (6.1 or newer) is not on PATH; install it from https://swift.org/install" >&2
  exit 1
}
