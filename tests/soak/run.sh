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
# shellcheck source=tests/harness.sh
source tests/harness.sh

duration=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  duration=$1
  shift
fi

harness_init soak "server log: soak-server.log"
run_driver $((duration + 300)) python3 -u "$root/tests/soak/soak.py" --binary "$PASSGATE_BIN" --workdir "$work" --duration "$duration" "$@"
