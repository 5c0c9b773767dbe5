#!/usr/bin/env bash
# The performance benchmark of issue 6 (see BENCHMARKS.md): builds the release binary, seeds
# a SQLite database with 10,000 users, starts the server on 127.0.0.1 and measures it with
# wrk. Every load goes to 127.0.0.1 only, and every run is bounded in time.
#
# Knobs (environment): BENCH_RUNS (runs per figure, default 3; medians are reported),
# BENCH_SECONDS (length of one run, default 5), BENCH_PORT (default 18731),
# BENCH_STARTUP_RUNS (default 7), BENCH_OIDC_CODES (codes minted per token-endpoint run,
# default 3000 per second of a run). The table also goes to target/bench/last-run.md.
# A second server on the same database, with Prometheus metrics on (BENCH_PORT+1, metrics on
# BENCH_PORT+2), is measured beside the first (metrics off) for the A/B of SPEC §17.
# BENCH_ONLY=overview measures only the overview's rows (the dashboard beside the users page,
# a manager's dashboard, the sign-ins with and without the overview's audit triggers) on the
# same seeded database, without the start-up, load, memory and forward-auth rows;
# BENCH_ONLY=forward_auth only the forward-auth rows (bench/forward_auth.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR="$ROOT/bench"
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECONDS:-5}
PORT=${BENCH_PORT:-18731}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-7}
OIDC_CODES=${BENCH_OIDC_CODES:-$((SECS * 3000))}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in ""|overview|forward_auth) ;; *) echo "bench: BENCH_ONLY is empty, overview or forward_auth, not $ONLY" >&2; exit 1 ;; esac
# every_row: whether this run measures every row; wants NAME: whether it measures NAME's.
every_row() { [ -z "$ONLY" ]; }
wants() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
PASSWORD='Bench-Quartz-Lantern-7319'
BASE="http://127.0.0.1:$PORT"
export BENCH_DIR BENCH_PASSWORD="$PASSWORD"

say() { printf '== %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# The forward-auth row (bench/forward_auth.sh) runs Debian's nginx (our own master only).
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# BENCH_BIN=path skips the build and measures that binary.
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  say "building the release binary"
  cargo build --release --quiet --bin passgate
  BIN="$ROOT/target/release/passgate"
fi

WORK=$(mktemp -d /tmp/passgate-bench.XXXXXX)
SERVER_PID=""
METRICS_PID=""
FA_PID=""
FA_NGINX_PID=""
FA_NOOP_PID=""
cleanup() {
  for pid in "$SERVER_PID" "$METRICS_PID" "$FA_PID" "$FA_NGINX_PID" "$FA_NOOP_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if curl -s -o /dev/null "$BASE/healthz"; then
  echo "bench: something already listens on port $PORT; set BENCH_PORT" >&2
  exit 1
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the cost of one hash ----------------------------------------------------------------
say "timing one argon2id hash (production parameters)"
HASH_MS=$("$BIN" bench-hash --count 15)
CORES=$(nproc)

# --- seed ----------------------------------------------------------------------------------
DB="$WORK/bench.db"
URL="sqlite://$DB?mode=rwc"
say "seeding 10,000 users"
# The administrative commands never create a database (README): make it first.
PASSGATE_LOG=warn "$BIN" --database-url "$URL" migrate up >/dev/null
printf '%s\n' "$PASSWORD" | PASSGATE_LOG=warn "$BIN" --database-url "$URL" user create benchadmin \
  --superuser --password-stdin --no-require-change >/dev/null
# 9,999 more users with the same (real) argon2id hash, each with its own security stamp;
# every tenth one is managed by benchadmin, so the page also looks up manager names.
sqlite3 "$DB" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
INSERT INTO users (username, password, email, enabled, superuser, manager, lang, created,
                   last_update, last_login, last_ip, security_stamp, require_password_change,
                   password_expires)
SELECT printf('user%05d', i), a.password, printf('user%05d@example.org', i), 1, 0,
       CASE WHEN i % 10 = 0 THEN a.user_id END, 'en', a.created, a.last_update, NULL, '',
       lower(hex(randomblob(32))), 0, NULL
FROM n, users AS a WHERE a.username = 'benchadmin';
SQL
USERS=$(sqlite3 "$DB" 'SELECT count(*) FROM users')
[ "$USERS" = 10000 ] || { echo "bench: seeded $USERS users, not 10000" >&2; exit 1; }
# user08000..user09999 get a TOTP device (one known secret, sealed as an enrolment seals it)
# for the sign-ins with a code; the plain sign-ins use user00001..user07999.
TOTP_SECRET_HEX=3132333435363738393031323334353637383930
PASSGATE_LOG=warn "$BIN" --database-url "$URL" bench-seed-totp user08 "$TOTP_SECRET_HEX" >/dev/null
PASSGATE_LOG=warn "$BIN" --database-url "$URL" bench-seed-totp user09 "$TOTP_SECRET_HEX" >/dev/null
DEVICES=$(sqlite3 "$DB" 'SELECT count(*) FROM totp_devices')
[ "$DEVICES" = 2000 ] || { echo "bench: seeded $DEVICES devices, not 2000" >&2; exit 1; }
# The codes of the next half hour (RFC 6238, SHA-1, 6 digits, 30 s), for login_totp.lua.
export BENCH_TOTP_CODES="$WORK/totp_codes.lua"
python3 - "$TOTP_SECRET_HEX" >"$BENCH_TOTP_CODES" <<'PY'
import hashlib, hmac, struct, sys, time
key = bytes.fromhex(sys.argv[1])
now = int(time.time()) // 30
print("return {")
for step in range(now - 1, now + 61):
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    print(f'  [{step}] = "{code:06d}",')
print("}")
PY

# --- start-up time -------------------------------------------------------------------------
AUDIT_ROWS="" START_EXISTING="" START_EXISTING_ALL="" START_EMPTY="" START_EMPTY_ALL=""
if every_row; then
say "start-up time, existing database ($STARTUP_RUNS runs)"
read -r START_EXISTING START_EXISTING_ALL < <(python3 "$BENCH_DIR/startup.py" "$BIN" "$PORT" \
  "$STARTUP_RUNS" existing "$DB")
say "start-up time, empty database ($STARTUP_RUNS runs)"
read -r START_EMPTY START_EMPTY_ALL < <(python3 "$BENCH_DIR/startup.py" "$BIN" "$PORT" \
  "$STARTUP_RUNS" empty "$WORK")
fi

# --- the server ----------------------------------------------------------------------------
# start_server NAME PORT [VAR=value…]: serves the database on 127.0.0.1:PORT and waits for
# /healthz; its pid is in STARTED_PID.
start_server() {
  local name=$1 port=$2
  shift 2
  env PASSGATE_BIND="127.0.0.1:$port" PASSGATE_TRUSTED_PROXIES=127.0.0.1 "$@" \
    "$BIN" --database-url "$URL" serve >"$WORK/$name.out" 2>"$WORK/$name.err" &
  STARTED_PID=$!
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
    sleep 0.05
  done
  cat "$WORK/$name.err" >&2
  exit 1
}
say "starting the server on $BASE"
# PASSGATE_PUBLIC_URL turns the OpenID Connect provider on (its token endpoint is measured).
start_server server "$PORT" PASSGATE_PUBLIC_URL="http://localhost:$PORT"
SERVER_PID=$STARTED_PID
# The same binary and database with metrics on, for the A/B (idle while the other is measured).
BASE_M="http://127.0.0.1:$((PORT + 1))"
METRICS_URL="http://127.0.0.1:$((PORT + 2))/metrics"
start_server metrics $((PORT + 1)) PASSGATE_METRICS_BIND="127.0.0.1:$((PORT + 2))"
METRICS_PID=$STARTED_PID
curl -sf -o /dev/null "$METRICS_URL" || { echo "bench: no metrics at $METRICS_URL" >&2; exit 1; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
sleep 2
RSS_IDLE=$(rss_kib)
RSS_IDLE_ANON=$(awk '/^RssAnon:/ {print $2}' "/proc/$SERVER_PID/status")
RSS_IDLE_FILE=$(awk '/^RssFile:/ {print $2}' "/proc/$SERVER_PID/status")

# --- credentials ---------------------------------------------------------------------------
api_token() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v2/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])'
}
# Signs in through the web form (with its CSRF token) and prints the session cookie value.
web_session() {
  local jar="$WORK/jar-$1" csrf status
  csrf=$(curl -sf -c "$jar" -b "$jar" "$BASE/login" | python3 -c '
import re, sys
html = sys.stdin.read()
tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", html).group(0)
print(re.search(r"value=\"([^\"]*)\"", tag).group(1))')
  status=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data-urlencode "username=$1" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "csrf_token=$csrf" "$BASE/login")
  [ "$status" = 303 ] || { echo "bench: web sign-in of $1 answered $status" >&2; exit 1; }
  awk '$6 == "passgate_session" {print $7}' "$jar"
}
TOKEN=$(api_token user00001)
COOKIE=$(web_session user00002)
ADMIN_COOKIE=$(web_session benchadmin)

# Each endpoint must answer 200 before it is measured.
expect_200() {
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' "$@")
  [ "$status" = 200 ] || { echo "bench: $* answered $status" >&2; exit 1; }
}
expect_200 -H "Authorization: Bearer $TOKEN" "$BASE/api/v2/users/@me"
expect_200 -X POST -H 'Content-Type: application/json' -d '{}' \
  "$BASE/api/v2/auth/passkey/login/options"
expect_200 -H "Cookie: passgate_session=$COOKIE" "$BASE/api/v2/users/@me"
expect_200 -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config"
expect_200 -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config?q=user012"
curl -s -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config?q=user012" |
  grep -q 'user01200' || { echo "bench: the search shows no user01200" >&2; exit 1; }

# --- load ----------------------------------------------------------------------------------
# wrk_run NAME CONNECTIONS SECONDS [wrk args...]: one run, its RESULT line appended to NAME.
# The line also gets the server's CPU time per request (user + system, from /proc), a figure
# that other load on the machine disturbs far less than requests/s.
CLK_TCK=$(getconf CLK_TCK)
# The server measured: MEASURED_PID, else the first one.
cpu_ticks() { awk '{print $14 + $15}' "/proc/${MEASURED_PID:-$SERVER_PID}/stat"; }
wrk_run() {
  local name=$1 conns=$2 secs=$3 before after line
  shift 3
  before=$(cpu_ticks)
  line=$(wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "$@" | grep '^RESULT')
  after=$(cpu_ticks)
  echo "$line" | awk -v t=$((after - before)) -v hz="$CLK_TCK" \
    '{split($2, r, "="); printf "%s cpu_us=%.1f\n", $0, t * 1e6 / hz / r[2]}' >>"$WORK/$name.txt"
}
# With metrics on, Prometheus scrapes in the middle of the run (as it would every 15 s).
scrape_mid_run() {
  [ "$1" = on ] || return 0
  sleep $((SECS / 2))
  curl -sf -o /dev/null "$METRICS_URL"
}
REPORT="$BENCH_DIR/report.lua"
LOGIN="$BENCH_DIR/login.lua"
RSS_LOADED="" RSS_PEAK="" RSS_SETTLED=""
if every_row; then
for run in $(seq 1 "$RUNS"); do
  say "run $run of $RUNS"
  wrk_run healthz 16 "$SECS" -s "$REPORT" "$BASE/healthz"
  wrk_run me_bearer 16 "$SECS" -s "$REPORT" -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v2/users/@me"
  wrk_run me_cookie 16 "$SECS" -s "$REPORT" -H "Cookie: passgate_session=$COOKIE" \
    "$BASE/api/v2/users/@me"
  # The users page as one administrator sees it (1 connection), then under load (16).
  for conns in 1 16; do
    wrk_run "users_first_$conns" "$conns" "$SECS" -s "$REPORT" \
      -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config"
    wrk_run "users_search_$conns" "$conns" "$SECS" -s "$REPORT" \
      -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config?q=user012"
  done
  # OpenID Connect: code exchanges at /oauth2/token (client_secret_basic, an RS256 ID token
  # each), every request a fresh code minted just before the run (a code lives 60 s).
  PASSGATE_LOG=warn "$BIN" --database-url "$URL" bench-oidc-codes user00003 "$OIDC_CODES" \
    >"$WORK/oidc_codes.txt"
  BENCH_OIDC_CODES="$WORK/oidc_codes.txt" wrk_run oidc_token 16 "$SECS" \
    -s "$BENCH_DIR/oidc_token.lua" "$BASE"
  # Passkey sign-in options (every sign-in page with script asks for them): nothing typed,
  # and a typed name without passkeys (decoys).
  wrk_run passkey_options_none 16 "$SECS" -s "$BENCH_DIR/passkey_options.lua" \
    "$BASE" -- none
  wrk_run passkey_options_name 16 "$SECS" -s "$BENCH_DIR/passkey_options.lua" \
    "$BASE" -- name
  # The argon2 limit of this run, timed just before its logins (the machine is shared, so the
  # speed of a hash moves from minute to minute): one hash alone, and one hash while every
  # core hashes (as during the logins; the cores then share caches and memory bandwidth).
  echo "$("$BIN" bench-hash --count 9) $("$BIN" bench-hash --count 9 --parallel "$CORES")" \
    >>"$WORK/hash_runs.txt"
  BENCH_LOGIN_USERS=7999 wrk_run logins 16 "$SECS" -s "$LOGIN" "$BASE"
  # The same with a TOTP code (a new slice of the code users each run: replay protection).
  wrk_run logins_totp 16 "$SECS" -s "$BENCH_DIR/login_totp.lua" "$BASE" -- $(((run - 1) * 700))
  # The storm: 64 connections signing in, and 16 asking for @me in its middle.
  BENCH_LOGIN_USERS=7999 wrk_run storm_logins 64 $((SECS + 2)) -s "$LOGIN" "$BASE" &
  storm=$!
  sleep 1
  wrk_run storm_me 16 "$SECS" -s "$REPORT" -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v2/users/@me"
  wait "$storm"
  # Metrics off (the first server) and on (the second), one after the other, the order
  # alternating from run to run; a scrape in the middle of each run with metrics on.
  order="off on"
  [ $((run % 2)) -eq 0 ] && order="on off"
  for side in $order; do
    if [ "$side" = on ]; then base=$BASE_M pid=$METRICS_PID; else base=$BASE pid=$SERVER_PID; fi
    scrape_mid_run "$side" &
    scrape=$!
    MEASURED_PID=$pid wrk_run "ab_me_$side" 16 "$SECS" -s "$REPORT" \
      -H "Authorization: Bearer $TOKEN" "$base/api/v2/users/@me"
    wait "$scrape"
    scrape_mid_run "$side" &
    scrape=$!
    BENCH_LOGIN_USERS=7999 MEASURED_PID=$pid wrk_run "ab_logins_$side" 16 "$SECS" -s "$LOGIN" "$base"
    wait "$scrape"
  done
done
# The A/B's metrics were on: the second server counted what it was sent.
curl -sf "$METRICS_URL" | grep -q 'passgate_sign_ins_total{outcome="success"} [1-9]' ||
  { echo "bench: the metrics server counted no sign-in" >&2; exit 1; }
sleep 2
RSS_LOADED=$(rss_kib)
RSS_PEAK=$(hwm_kib)
# The hashing threads give their working memory back after 10 s without work.
sleep 11
RSS_SETTLED=$(rss_kib)
fi

if wants overview; then
# What the overview's counting costs the sign-in (before the overview's seeding puts some
# users into states that refuse a sign-in): the same logins with the overview's triggers on
# audit_log (the daily counts, and the managers' daily counts) and without them. The order
# alternates run by run (without-with, then with-without, …) so that a change of the machine's
# load biases neither side; the triggers are dropped and put back from their own stored SQL.
# Then the triggers' cost per audit entry alone: 20,000 sign-in entries about a managed user
# (so both triggers write) in one transaction.
say "sign-ins with and without the overview's triggers"
ROLLUP_TRIGGERS="'audit_log_rollup', 'audit_log_viewer_rollup'"
ROLLUP_SQL=$(sqlite3 "$DB" "SELECT group_concat(sql, '; ') FROM sqlite_master WHERE type = 'trigger' AND name IN ($ROLLUP_TRIGGERS)")
[ "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ($ROLLUP_TRIGGERS)")" = 2 ] ||
  { echo "bench: the overview's two audit_log triggers are not both there" >&2; exit 1; }
audit_inserts_ms() {
  python3 - "$DB" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
# user00010: every tenth user is managed by benchadmin.
target = db.execute("SELECT user_id FROM users WHERE username = 'user00010' AND manager IS NOT NULL").fetchone()[0]
db.execute("BEGIN")
start = time.perf_counter()
db.executemany(
    "INSERT INTO audit_log (created, target_id, target_name, action, detail, source_ip) "
    "VALUES (strftime('%Y-%m-%d %H:%M:%S', 'now', '-40 days'), ?, 'user00010', 'login', '', '10.0.0.1')",
    [(target,)] * 20000)
elapsed = time.perf_counter() - start
db.execute("ROLLBACK")
print(f"{elapsed * 1000:.1f}")
PY
}
DROP_ROLLUP="DROP TRIGGER IF EXISTS audit_log_rollup; DROP TRIGGER IF EXISTS audit_log_viewer_rollup"
# rollup_side on|off: the logins with the triggers (on) or without them (off).
rollup_side() {
  if [ "$1" = on ]; then
    sqlite3 "$DB" "PRAGMA busy_timeout = 10000; $DROP_ROLLUP; $ROLLUP_SQL;"
    echo "$(audit_inserts_ms)" >>"$WORK/audit_inserts_rollup.txt"
    BENCH_LOGIN_USERS=7999 wrk_run logins_rollup 16 "$SECS" -s "$LOGIN" "$BASE"
  else
    sqlite3 "$DB" "PRAGMA busy_timeout = 10000; $DROP_ROLLUP"
    echo "$(audit_inserts_ms)" >>"$WORK/audit_inserts_plain.txt"
    BENCH_LOGIN_USERS=7999 wrk_run logins_no_rollup 16 "$SECS" -s "$LOGIN" "$BASE"
  fi
}
for run in $(seq 1 "$RUNS"); do
  say "rollup run $run of $RUNS"
  order="off on"
  [ $((run % 2)) -eq 0 ] && order="on off"
  for side in $order; do
    rollup_side "$side"
  done
  # The triggers stay in place after each run (the overview's seeding below is counted by them).
  [ "$side" = on ] || sqlite3 "$DB" "PRAGMA busy_timeout = 10000; $DROP_ROLLUP; $ROLLUP_SQL;"
done

# --- the administrator's overview (SPEC §18) ----------------------------------------------
# After the load (its sign-ins must meet no disabled or expired account): users in each state,
# 30 days of audit entries (about 5,000 sign-ins a day, 3 % failed, some resets; the database
# counts them per day as they are written) and three applications with a week of single
# sign-on sessions. The dashboard is then measured beside the users page, run by run.
say "seeding the overview: states, 30 days of audit entries, applications"
for app in Wiki Tickets Grafana; do
  PASSGATE_LOG=warn "$BIN" --database-url "$URL" app add "$app" --host "$(echo "$app" | tr 'A-Z' 'a-z').bench.example" >/dev/null
done
printf '%s\n' "$PASSWORD" | PASSGATE_LOG=warn "$BIN" --database-url "$URL" user create benchmanager \
  --password-stdin --no-require-change >/dev/null
sqlite3 "$DB" >/dev/null <<'SQL'
PRAGMA busy_timeout = 10000;
INSERT INTO user_permissions (user_id, permission, quantity)
  SELECT user_id, 'USER_CONFIG', -1 FROM users WHERE username = 'benchmanager';
UPDATE users SET manager = (SELECT user_id FROM users WHERE username = 'benchmanager')
  WHERE username LIKE 'user%' AND CAST(substr(username, 5) AS INTEGER) % 10 = 5;
UPDATE users SET last_login = strftime('%Y-%m-%d %H:%M:%S', 'now', printf('-%d minutes', user_id * 7 % 40000))
  WHERE user_id % 3 <> 0 AND username LIKE 'user%';
UPDATE users SET require_password_change = 1 WHERE user_id % 97 = 0;
UPDATE users SET require_password_change = 1,
  password_expires = strftime('%Y-%m-%d %H:%M:%S', 'now', printf('+%d minutes', user_id % 2880))
  WHERE user_id % 199 = 0;
UPDATE users SET require_mfa = 1 WHERE user_id % 53 = 0;
UPDATE users SET enabled = 0 WHERE user_id % 101 = 0 AND username LIKE 'user%';
INSERT INTO reset_links (user_id, token_hash, purpose, state, created, created_by, expires,
                         revoke_api_keys, reset_mfa)
  SELECT user_id, lower(hex(randomblob(32))), 'reset', 'live', strftime('%Y-%m-%d %H:%M:%S', 'now'),
         'benchadmin', strftime('%Y-%m-%d %H:%M:%S', 'now', '+1 day'), 0, 0
  FROM users WHERE user_id % 89 = 0;
INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until, user_id)
  SELECT 'user:bench' || user_id, 5, strftime('%Y-%m-%d %H:%M:%S', 'now'),
         strftime('%Y-%m-%d %H:%M:%S', 'now', '+15 minutes'), user_id
  FROM users WHERE user_id % 487 = 0;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 149999)
INSERT INTO audit_log (created, actor_id, actor_name, target_id, target_name, action, detail, source_ip)
  SELECT strftime('%Y-%m-%d %H:%M:%S', 'now', printf('-%d seconds', (i * 17) % (30 * 86400))),
         i % 9999 + 2, printf('user%05d', i % 9999 + 1), i % 9999 + 2, printf('user%05d', i % 9999 + 1),
         CASE WHEN i % 33 = 0 THEN 'login_failed' WHEN i % 700 = 1 THEN 'password_reset' ELSE 'login' END,
         CASE WHEN i % 33 = 0 THEN 'incorrect credentials' ELSE '' END, '10.0.0.1'
  FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 14999)
INSERT INTO audit_log (created, actor_id, actor_name, target_id, target_name, action, detail, source_ip, app_id)
  SELECT strftime('%Y-%m-%d %H:%M:%S', 'now', printf('-%d seconds', (i * 29) % (7 * 86400))),
         i % 5000 * 2 + 2, 'bench', i % 5000 * 2 + 2, 'bench', 'sso_session_issued', '', '10.0.0.1',
         (SELECT min(app_id) FROM apps) + i % 3
  FROM n;
SQL
AUDIT_ROWS=$(sqlite3 "$DB" 'SELECT count(*) FROM audit_log')
MANAGER_COOKIE=$(web_session benchmanager)
expect_200 -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/dashboard"
expect_200 -H "Cookie: passgate_session=$MANAGER_COOKIE" "$BASE/panel/dashboard"
curl -s -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/dashboard" | grep -q 'svg class="chart"' ||
  { echo "bench: the dashboard shows no chart" >&2; exit 1; }
for run in $(seq 1 "$RUNS"); do
  say "overview run $run of $RUNS"
  wrk_run overview_users_1 1 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config"
  wrk_run overview_dashboard_1 1 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/dashboard"
  wrk_run overview_dashboard_16 16 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/dashboard"
  wrk_run overview_manager_1 1 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$MANAGER_COOKIE" "$BASE/panel/dashboard"
  wrk_run overview_manager_users_1 1 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$MANAGER_COOKIE" "$BASE/panel/panel_config"
  wrk_run overview_filtered_1 1 "$SECS" -s "$REPORT" \
    -H "Cookie: passgate_session=$ADMIN_COOKIE" "$BASE/panel/panel_config?status=no_mfa"
done
fi

# --- SQLite secure_delete (issue 22) --------------------------------------------------------
# What the pragma costs where passgate deletes: a one-time result (a ~300-byte sealed payload
# in the real table) written and deleted again, 5,000 times, each statement its own commit,
# with WAL and synchronous=NORMAL as passgate opens SQLite; OFF and ON alternating run by run.
every_row && say "one-time results with secure_delete off and on"
one_time_us() {
  python3 - "$DB" "$1" <<'PY'
import base64, os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = NORMAL")
db.execute(f"PRAGMA secure_delete = {sys.argv[2]}")
user = db.execute("SELECT MIN(user_id) FROM users").fetchone()[0]
count = 5000
start = time.perf_counter()
for i in range(count):
    owner = base64.b64encode(os.urandom(32)).decode()
    sealed = base64.b64encode(os.urandom(220)).decode()
    db.execute(
        "INSERT INTO one_time_results (owner, id, user_id, sealed, created, expires) "
        "VALUES (?, ?, ?, ?, datetime('now'), datetime('now', '+10 minutes'))",
        (owner, f"bench{i}", user, sealed))
    db.execute("DELETE FROM one_time_results WHERE owner = ? AND id = ?", (owner, f"bench{i}"))
print(f"{(time.perf_counter() - start) * 1e6 / count:.2f}")
PY
}
if every_row; then
  for run in $(seq 1 "$RUNS"); do
    order="OFF ON"
    [ $((run % 2)) -eq 0 ] && order="ON OFF"
    for side in $order; do
      one_time_us "$side" >>"$WORK/secure_delete_$side.txt"
    done
  done
fi

# --- forward authentication (SPEC §15.2) ---------------------------------------------------
if wants forward_auth; then
  # shellcheck source=bench/forward_auth.sh
  . "$BENCH_DIR/forward_auth.sh"
fi

# --- the table -----------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$ROOT/target/bench"
python3 "$BENCH_DIR/table.py" "$WORK" \
  "hash_ms=$HASH_MS" "cores=$CORES" "rss_idle_kib=$RSS_IDLE" "rss_idle_anon_kib=$RSS_IDLE_ANON" "rss_idle_file_kib=$RSS_IDLE_FILE" "rss_loaded_kib=$RSS_LOADED" "rss_settled_kib=$RSS_SETTLED" \
  "rss_peak_kib=$RSS_PEAK" "start_existing_ms=$START_EXISTING" "start_empty_ms=$START_EMPTY" \
  "start_existing_all=$START_EXISTING_ALL" "start_empty_all=$START_EMPTY_ALL" \
  "runs=$RUNS" "seconds=$SECS" "load_before=$LOAD_BEFORE" "load_after=$LOAD_AFTER" \
  "audit_rows=$AUDIT_ROWS" "only=$ONLY" | tee "$ROOT/target/bench/last-run.md"
