#!/usr/bin/env bash
# Soak: a mixed workload (logins, resets, forced and voluntary changes, reads of
# /api/v2/users and /panel/panel_config, logouts, API keys, refused logins) against the
# release build for DURATION_SECONDS (default 60), with the server's resident memory sampled
# every 2 s. Fails on any unexpected answer or if RSS grows after warm-up by more than
# max(8 MiB, 20%). See tests/soak/soak.py.
#
#   tests/soak/run.sh [DURATION_SECONDS] [--threads N] [--seed N]
#
# python3 (standard library) and cargo only; loopback traffic only; the server is ended by
# its id on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

duration=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  duration=$1
  shift
fi

command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }

if [ -z "${PASSGATE_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  PASSGATE_BIN="$root/target/release/passgate"
fi

mkdir -p "$root/target/soak"
work=$(mktemp -d "$root/target/soak/run.XXXXXX")
driver_pid=""
cleanup() {
  status=$?
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    sleep 1
  fi
  if [ -f "$work/server.pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done < "$work/server.pids"
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "soak: work directory kept: $work (server log: $work/soak-server.log)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

timeout --signal=TERM --kill-after=30 $((duration + 300)) \
  python3 -u "$root/tests/soak/soak.py" --binary "$PASSGATE_BIN" --workdir "$work" --duration "$duration" "$@" &
driver_pid=$!
wait "$driver_pid"
