#!/usr/bin/env bash
# Schema-driven fuzzing of /api/v2 with schemathesis (pinned below), as the superuser, a
# USER_CONFIG manager and a flagged user; one fresh server and SQLite file per role.
#
#   tests/schemathesis/run.sh [--max-examples N] [--seed N] [--roles superuser,manager,flagged]
#
# schemathesis is installed into target/schemathesis-venv (under the ignored target/).
# Loopback traffic only; every server is ended by its id on exit. Exit 0 = no failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1
SCHEMATHESIS_VERSION=4.32.5

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
venv="$root/target/schemathesis-venv"
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "${PASSGATE_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  PASSGATE_BIN="$root/target/release/passgate"
fi

mkdir -p "$root/target/schemathesis"
work=$(mktemp -d "$root/target/schemathesis/run.XXXXXX")
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
    echo "schemathesis: work directory kept: $work (per role: schemathesis.txt, server.log, report/)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

timeout --signal=TERM --kill-after=30 2400 \
  "$venv/bin/python" -u "$root/tests/schemathesis/fuzz.py" \
  --binary "$PASSGATE_BIN" --workdir "$work" --st "$venv/bin/st" "$@" &
driver_pid=$!
wait "$driver_pid"
