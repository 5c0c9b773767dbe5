#!/usr/bin/env bash
# Real reverse proxy: Debian's nginx terminates TLS (throwaway self-signed certificate) in
# front of the release binary (PASSGATE_COOKIE_SECURE=true, fresh SQLite databases), and
# clients connect from 127.0.0.2 / 127.0.0.3. Checks that the audit log and the login
# throttle see the real client only when nginx is a trusted proxy, that a forged
# X-Forwarded-For is never believed, and that Secure cookies and a full sign-in work over
# https. See tests/proxy/proxy.py for every check.
#
#   tests/proxy/run.sh
#
# Installs nginx-light (or nginx) and openssl from Debian when missing; never touches the
# system nginx service: our own master runs with `-c <conf> -p <tmpdir>` on 127.0.0.1.
# Loopback traffic only. Exit 0 = every check passed. The work directory is kept under
# target/proxy/ on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
NGINX_BIN=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ ${#need[@]} -gt 0 ] || [ -z "$NGINX_BIN" ]; then
  echo "== apt-get install ${need[*]}${NGINX_BIN:+}${NGINX_BIN:- nginx-light}"
  apt-get update -qq
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$NGINX_BIN" ]; then
    # Only the binary is used: our own master process below, never the system service.
    apt-get install -y -qq --no-install-recommends nginx-light "${need[@]}" >/dev/null \
      || apt-get install -y -qq --no-install-recommends nginx "${need[@]}" >/dev/null
    NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
  else
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

if [ -z "${PASSGATE_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  PASSGATE_BIN="$root/target/release/passgate"
fi

mkdir -p "$root/target/proxy"
work=$(mktemp -d "$root/target/proxy/run.XXXXXX")
chmod 755 "$work"   # nginx workers may run as an unprivileged user
driver_pid=""
cleanup() {
  status=$?
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    sleep 1
  fi
  # Every passgate and nginx master the driver started, by its id (even if the driver died);
  # then any nginx master still named in a pid file of ours.
  if [ -f "$work/server.pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done < "$work/server.pids"
  fi
  for pidfile in "$work"/*/nginx.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "proxy: work directory kept: $work (logs: $work/*.log, $work/*-nginx/error.log)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "== throwaway self-signed certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
chmod 644 "$work/cert.pem"

echo "== $("$NGINX_BIN" -v 2>&1) in front of $PASSGATE_BIN"
# Bounded: the driver takes ~10 s; the timeout is a backstop.
timeout --signal=TERM --kill-after=20 300 \
  python3 -u "$root/tests/proxy/proxy.py" --binary "$PASSGATE_BIN" --nginx "$NGINX_BIN" \
    --workdir "$work" --cert "$work/cert.pem" --key "$work/key.pem" &
driver_pid=$!
wait "$driver_pid"
