#!/usr/bin/env bash
# The browser suite: playwright-core drives Debian's chromium against a real passgate.
#
#   bash tests/e2e/run.sh            (or: just e2e)
#
# Installs what is missing (Debian's chromium and sqlite3, the npm packages of this folder),
# builds the release binary, starts two passgate servers, each on a fresh temporary SQLite
# database and a free port (one for the walk with JavaScript, one for the walk without, so
# that both start from the first sign-in of the generated `admin`), runs the suite with
# node's built-in test runner, stops the servers and exits with the suite's status.
# Screenshots and server logs land in tests/e2e/artifacts/.
#
# Environment: PASSGATE_BIN=path skips the build and uses that binary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
artifacts="$here/artifacts"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "e2e: need root to run: $*" >&2
        return 1
    fi
}

# 1. System packages: the browser (no browser download works here) and sqlite3, used to
#    move a temporary password's expiry into the past.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
# The single sign-on walk: nginx in front of an app (only our own master runs; the package's
# service is kept off) and python3 for the app that echoes headers.
NGINX_BIN=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
[ -n "$NGINX_BIN" ] || missing+=(nginx-light)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    echo "e2e: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    as_root rm -f /usr/sbin/policy-rc.d
    NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
fi
command -v node >/dev/null || { echo "e2e: node is required (Debian: apt-get install nodejs npm)" >&2; exit 1; }

# 2. The npm packages, exactly as locked.
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

# 3. The binary.
if [ -z "${PASSGATE_BIN:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
    PASSGATE_BIN="$root/target/release/passgate"
fi
[ -x "$PASSGATE_BIN" ] || { echo "e2e: no binary at $PASSGATE_BIN" >&2; exit 1; }

# 4. The servers.
rm -rf "$artifacts"
mkdir -p "$artifacts"
work="$(mktemp -d -t passgate-e2e.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    cp "$work"/*.log "$work"/nginx/*.log "$artifacts"/ 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start_server NAME [VAR=VALUE…]: exports E2E_<NAME>_URL, _DB_URL, _DB_PATH and
# _ADMIN_PASSWORD. The settings given after the name override the defaults.
start_server() {
    local name="$1" upper port db out err pid i password
    shift
    upper="$(echo "$name" | tr '[:lower:]' '[:upper:]')"
    port="$(free_port)"
    db="$work/$name.db"
    out="$work/server-$name.stdout.log"
    err="$work/server-$name.stderr.log"
    # Passkeys need a host name as relying party (WebAuthn has none for IP addresses): the
    # pages are opened at http://localhost:PORT by the passkey walk.
    env PASSGATE_PUBLIC_URL="http://localhost:$port" \
        PASSGATE_DATABASE_URL="sqlite://$db?mode=rwc" PASSGATE_BIND="127.0.0.1:$port" "$@" \
        "$PASSGATE_BIN" serve >"$out" 2>"$err" &
    pid=$!
    pids+=("$pid")
    for i in $(seq 1 300); do
        if grep -q "listening on" "$out" 2>/dev/null; then break; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "e2e: the $name server exited early:" >&2
            cat "$out" "$err" >&2
            exit 1
        fi
        sleep 0.2
    done
    grep -q "listening on" "$out" || { echo "e2e: the $name server did not start" >&2; cat "$err" >&2; exit 1; }
    # The generated password is the first line indented by 4 spaces after the announcement.
    password="$(awk '/Created the superuser/ { found = 1; next } found && /^    [^ ]/ { sub(/^    /, ""); print; exit }' "$out")"
    [ -n "$password" ] || { echo "e2e: no admin password printed by the $name server" >&2; cat "$out" >&2; exit 1; }
    export "E2E_${upper}_URL=http://127.0.0.1:$port"
    export "E2E_${upper}_DB_URL=sqlite://$db?mode=rwc"
    export "E2E_${upper}_DB_PATH=$db"
    export "E2E_${upper}_ADMIN_PASSWORD=$password"
    echo "e2e: $name server on http://127.0.0.1:$port"
}

start_server js
start_server nojs
# The overview's own server (overview.test.js seeds it with users in each state and a month
# of audit entries, which the other walks' tables must not see).
start_server overview

# Single sign-on (sso.test.js): passgate behind Debian's nginx, configured with the snippets
# of docs/proxies.md, in front of tests/forward_auth/echo.py; the browser maps
# *.passgate.test to 127.0.0.1 (Chromium's --host-resolver-rules).
sso_port="$(free_port)"
echo_port="$(free_port)"
start_server sso PASSGATE_PUBLIC_URL="http://auth.passgate.test:$sso_port" \
    PASSGATE_SSO_COOKIE_DOMAIN=passgate.test PASSGATE_TRUSTED_PROXIES=127.0.0.1
python3 "$root/tests/forward_auth/echo.py" "$echo_port" >"$work/echo.log" 2>&1 &
pids+=("$!")
mkdir -p "$work/nginx"
chmod 755 "$work" "$work/nginx"
nginx_conf="$(python3 "$root/tests/forward_auth/forward_auth.py" --nginx-conf "$work/nginx" \
    "$sso_port" "${E2E_SSO_URL##*:}" "$echo_port")"
"$NGINX_BIN" -c "$nginx_conf" -p "$work/nginx/" -e "$work/nginx/error.log" >"$work/nginx.log" 2>&1 &
pids+=("$!")
for i in $(seq 1 100); do
    if (echo >"/dev/tcp/127.0.0.1/$sso_port") 2>/dev/null && (echo >"/dev/tcp/127.0.0.1/$echo_port") 2>/dev/null; then break; fi
    sleep 0.1
done
export E2E_SSO_PORT="$sso_port"
echo "e2e: nginx for single sign-on on 127.0.0.1:$sso_port"
export PASSGATE_BIN E2E_ARTIFACTS="$artifacts"

# 5. The suite. Its status is the script's.
status=0
# Every suite file, or only those named on the command line (e.g. passkeys.test.js).
(
    cd "$here"
    if [ $# -gt 0 ]; then files=("$@"); else files=(./*.test.js); fi
    node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
) || status=$?
if [ "$status" -ne 0 ]; then
    # CI keeps only the log: what the servers said goes into it.
    for log in "$work"/server-*.log; do
        [ -s "$log" ] || continue
        echo "--- last lines of $(basename "$log") (without the request lines at INFO)"
        grep -v ' INFO ' "$log" | tail -n 60 || true
    done
fi
echo "e2e: screenshots and server logs in $artifacts"
exit "$status"
