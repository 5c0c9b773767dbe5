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
# shellcheck source=tests/harness.sh
source tests/harness.sh
root=$(pwd)
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

harness_init schemathesis "per role: schemathesis.txt, server.log, report/"
run_driver 2400 "$venv/bin/python" -u "$root/tests/schemathesis/fuzz.py" --binary "$PASSGATE_BIN" --workdir "$work" --st "$venv/bin/st" "$@"
