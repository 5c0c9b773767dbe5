#!/usr/bin/env bash
# The three Crafty 4 API clients from PyPI, unchanged, against passgate (SPEC §12): sign-in,
# users, keys, the forced change and the gate, and the deliberate differences.
#
#   tests/crafty_clients/run.sh        (PASSGATE_BIN=… to use a binary already built)
#
# The clients (pinned below) are installed into target/crafty-clients-venv (ignored).
# Loopback traffic only; the server is ended by its id on exit. Exit 0 = every check passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/harness.sh
source tests/harness.sh
root=$(pwd)
CLIENTS=(crafty-client==2.0.0 crafty-async-client==0.1.0 crafty-controller-api==0.1.4)

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
venv="$root/target/crafty-clients-venv"
if ! "$venv/bin/python" -c 'import crafty_controller_api, crafty_client.client, crafty_client.crafty4' 2>/dev/null; then
  echo "== installing ${CLIENTS[*]} into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${CLIENTS[@]}"
fi

harness_init crafty_clients "server.log"
run_driver 600 "$venv/bin/python" -u "$root/tests/crafty_clients/clients.py" --binary "$PASSGATE_BIN" --workdir "$work"
