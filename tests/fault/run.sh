#!/usr/bin/env bash
# Fault injection: concurrent resets and password changes while the server is killed with
# SIGKILL at random moments (20 kills over ~60 s by default), then consistency checks on
# the SQLite file; then 64 concurrent writers. See tests/fault/fault.py for every check.
#
#   tests/fault/run.sh [--kills N] [--duration SECONDS] [--seed N]
#
# Needs only python3 (standard library) and cargo. Loopback traffic only. Exit 0 = no
# violation. The work directory (database, server log) is kept under target/ on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }

if [ -z "${PASSGATE_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  PASSGATE_BIN="$root/target/release/passgate"
fi

mkdir -p "$root/target/fault"
work=$(mktemp -d "$root/target/fault/run.XXXXXX")
driver_pid=""
cleanup() {
  status=$?
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    sleep 1
  fi
  # Every server the driver started, by its id (even if the driver itself died).
  if [ -f "$work/server.pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done < "$work/server.pids"
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "fault: work directory kept: $work (server log: $work/fault-server.log)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Bounded: the driver itself stops after its kills; the timeout is a backstop.
timeout --signal=TERM --kill-after=30 900 \
  python3 -u "$root/tests/fault/fault.py" --binary "$PASSGATE_BIN" --workdir "$work" "$@" &
driver_pid=$!
wait "$driver_pid"
