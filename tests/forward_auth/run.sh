#!/usr/bin/env bash
# Forward authentication through real proxies (SPEC §15.5): the nginx and Caddy snippets of
# docs/proxies.md, read from that file, served by Debian's nginx-light and caddy in front of
# an app that echoes the headers it receives, with the release binary as passgate. See
# tests/forward_auth/forward_auth.py for every check.
#
#   tests/forward_auth/run.sh [--only nginx|caddy]
#
# Installs nginx-light (or nginx), caddy and python3 from Debian when missing; never touches
# a system service: our own nginx master, caddy and passgate run from a work directory on
# 127.0.0.1 and are stopped by process id. Exit 0 = every check passed. The work directory is
# kept under target/forward_auth/ on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

find_bin() { command -v "$1" || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || { [ -x "/usr/bin/$1" ] && echo "/usr/bin/$1"; } || true; }
NGINX_BIN=$(find_bin nginx)
CADDY_BIN=$(find_bin caddy)
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -n "$NGINX_BIN" ] || need+=(nginx-light)
[ -n "$CADDY_BIN" ] || need+=(caddy)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Only the binaries are used (our own processes below); keep the packages' services off.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  NGINX_BIN=$(find_bin nginx)
  CADDY_BIN=$(find_bin caddy)
fi

if [ -z "${PASSGATE_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  PASSGATE_BIN="$root/target/release/passgate"
fi

mkdir -p "$root/target/forward_auth"
work=$(mktemp -d "$root/target/forward_auth/run.XXXXXX")
chmod 755 "$work"
touch "$work/server.pids"
driver_pid=""
cleanup() {
  status=$?
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  # Everything the driver started, by its id (even if the driver died).
  for pids in "$work/server.pids" "$work"/*/server.pids; do
    [ -f "$pids" ] || continue
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done < "$pids"
  done
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "forward_auth: work directory kept: $work (logs: $work/*/*.log)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "== $("$NGINX_BIN" -v 2>&1), caddy $("$CADDY_BIN" version | cut -d' ' -f1), in front of $PASSGATE_BIN"
timeout --signal=TERM --kill-after=20 600 \
  python3 -u "$root/tests/forward_auth/forward_auth.py" --binary "$PASSGATE_BIN" \
    --nginx "$NGINX_BIN" --caddy "$CADDY_BIN" --workdir "$work" "$@" &
driver_pid=$!
wait "$driver_pid"
