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
# shellcheck source=tests/harness.sh
source tests/harness.sh

harness_init fault "server log: fault-server.log"
run_driver 900 python3 -u "$root/tests/fault/fault.py" --binary "$PASSGATE_BIN" --workdir "$work" "$@"
