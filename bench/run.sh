#!/usr/bin/env bash
# The performance benchmark of issue 6 (see BENCHMARKS.md): builds the release binary, seeds
# a SQLite database with 10,000 users, starts the server on 127.0.0.1 and measures it with
# wrk. Every load goes to 127.0.0.1 only, and every run is bounded in time.
#
# Knobs (environment): BENCH_RUNS (runs per figure, default 3; medians are reported),
# BENCH_SECONDS (length of one run, default 5), BENCH_PORT (default 18731),
# BENCH_STARTUP_RUNS (default 7), BENCH_OIDC_CODES (codes minted per token-endpoint run,
# default 3000 per second of a run). The table also goes to target/bench/last-run.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR="$ROOT/bench"
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECONDS:-5}
PORT=${BENCH_PORT:-18731}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-7}
OIDC_CODES=${BENCH_OIDC_CODES:-$((SECS * 3000))}
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
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

say "building the release binary"
cargo build --release --quiet --bin passgate
BIN="$ROOT/target/release/passgate"

WORK=$(mktemp -d /tmp/passgate-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
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
say "start-up time, existing database ($STARTUP_RUNS runs)"
read -r START_EXISTING START_EXISTING_ALL < <(python3 "$BENCH_DIR/startup.py" "$BIN" "$PORT" \
  "$STARTUP_RUNS" existing "$DB")
say "start-up time, empty database ($STARTUP_RUNS runs)"
read -r START_EMPTY START_EMPTY_ALL < <(python3 "$BENCH_DIR/startup.py" "$BIN" "$PORT" \
  "$STARTUP_RUNS" empty "$WORK")

# --- the server ----------------------------------------------------------------------------
say "starting the server on $BASE"
# PASSGATE_PUBLIC_URL turns the OpenID Connect provider on (its token endpoint is measured).
PASSGATE_BIND="127.0.0.1:$PORT" PASSGATE_TRUSTED_PROXIES=127.0.0.1 PASSGATE_PUBLIC_URL="$BASE" \
  "$BIN" --database-url "$URL" serve >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "$BASE/healthz" && break
  sleep 0.05
done
curl -sf -o /dev/null "$BASE/healthz" || { cat "$WORK/server.err" >&2; exit 1; }
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
wrk_run() {
  local name=$1 conns=$2 secs=$3 before after line
  shift 3
  before=$(cpu_ticks)
  line=$(wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "$@" | grep '^RESULT')
  after=$(cpu_ticks)
  echo "$line" | awk -v t=$((after - before)) -v hz="$CLK_TCK" \
    '{split($2, r, "="); printf "%s cpu_us=%.1f\n", $0, t * 1e6 / hz / r[2]}' >>"$WORK/$name.txt"
}
REPORT="$BENCH_DIR/report.lua"
LOGIN="$BENCH_DIR/login.lua"
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
done
sleep 2
RSS_LOADED=$(rss_kib)
RSS_PEAK=$(hwm_kib)
# The hashing threads give their working memory back after 10 s without work.
sleep 11
RSS_SETTLED=$(rss_kib)

# --- the table -----------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$ROOT/target/bench"
python3 "$BENCH_DIR/table.py" "$WORK" \
  "hash_ms=$HASH_MS" "cores=$CORES" "rss_idle_kib=$RSS_IDLE" "rss_idle_anon_kib=$RSS_IDLE_ANON" "rss_idle_file_kib=$RSS_IDLE_FILE" "rss_loaded_kib=$RSS_LOADED" "rss_settled_kib=$RSS_SETTLED" \
  "rss_peak_kib=$RSS_PEAK" "start_existing_ms=$START_EXISTING" "start_empty_ms=$START_EMPTY" \
  "start_existing_all=$START_EXISTING_ALL" "start_empty_all=$START_EMPTY_ALL" \
  "runs=$RUNS" "seconds=$SECS" "load_before=$LOAD_BEFORE" "load_after=$LOAD_AFTER" | tee "$ROOT/target/bench/last-run.md"
