#!/usr/bin/env bash
# The forward-auth row of `just bench` (SPEC §15.2), sourced by bench/run.sh after its main
# runs (it uses $BIN, $URL, $WORK, $PASSWORD, $RUNS, $SECS, $PORT, $REPORT and wrk_run):
#
#   fa_nginx    a page of an app through Debian's nginx with the auth_request snippets of
#               docs/proxies.md (every request asks passgate; a signed-in SSO cookie)
#   fa_plain    the same nginx proxying the same page without auth_request
#   fa_direct   the decision alone: GET /api/authz/auth-request straight to passgate
#   fa_healthz  /healthz of the same passgate, for the ratio
#   fa_ceiling  the same nginx and app, auth_request answered by a do-nothing authoriser (a
#               second nginx process answering `return 200`, over the same keep-alive hop):
#               what the chain costs without any authorization server's work, the most any
#               authoriser in a process of its own could reach on this machine
#   fa_floor    the same, answered by passgate's cheapest answer (an embedded file: no
#               database, no decision): what passgate's HTTP path costs before the decision
#
# The app is the fastest there is: a static file served by the same nginx on another port,
# proxied as every app behind forward authentication is (keep-alive connections); a real
# app is slower, so the first ratio is the least favourable one. passgate runs as a second
# instance on the benchmark's database, with single sign-on on.

FA_PASSGATE_PORT=$((PORT + 11))
FA_NGINX_PORT=$((PORT + 12))
FA_PLAIN_PORT=$((PORT + 13))
FA_APP_PORT=$((PORT + 14))
FA_NOOP_PORT=$((PORT + 15))
FA_CEILING_PORT=$((PORT + 16))
FA_FLOOR_PORT=$((PORT + 17))
FA_DIR="$WORK/forward_auth"
mkdir -p "$FA_DIR/tmp"
chmod 755 "$WORK" "$FA_DIR"
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)

PASSGATE_LOG=warn "$BIN" --database-url "$URL" app add Bench --host bench.passgate.test >/dev/null

PASSGATE_BIND="127.0.0.1:$FA_PASSGATE_PORT" PASSGATE_TRUSTED_PROXIES=127.0.0.1 \
  PASSGATE_PUBLIC_URL="http://auth.passgate.test:$FA_NGINX_PORT" \
  PASSGATE_SSO_COOKIE_DOMAIN=passgate.test PASSGATE_LOG=warn \
  "$BIN" --database-url "$URL" serve >"$FA_DIR/passgate.out" 2>"$FA_DIR/passgate.err" &
FA_PID=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "http://127.0.0.1:$FA_PASSGATE_PORT/healthz" && break
  sleep 0.05
done

# The documented snippets, with passgate's address; the page both servers serve.
python3 "$ROOT/tests/forward_auth/forward_auth.py" --snippet nginx/passgate-upstream.conf \
  "$FA_PASSGATE_PORT" >"$FA_DIR/passgate-upstream.conf"
python3 "$ROOT/tests/forward_auth/forward_auth.py" --snippet nginx/passgate-location.conf \
  "$FA_PASSGATE_PORT" >"$FA_DIR/passgate-location.conf"
python3 "$ROOT/tests/forward_auth/forward_auth.py" --snippet nginx/passgate-authrequest.conf \
  "$FA_PASSGATE_PORT" >"$FA_DIR/passgate-authrequest.conf"
printf '<!doctype html><title>page</title><p>A page of the app.</p>\n' >"$FA_DIR/page.html"
# passgate's smallest embedded file, as its sign-in page links it (versioned path).
FA_ASSET=$(curl -sf "http://127.0.0.1:$FA_PASSGATE_PORT/login" | grep -o '/assets/[0-9a-f]*/lock.svg' | head -1)
[ -n "$FA_ASSET" ] || { echo "bench: no lock.svg on the sign-in page" >&2; exit 1; }
# The do-nothing authoriser: a second nginx process.
mkdir -p "$FA_DIR/noop/tmp"
cat >"$FA_DIR/noop/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $FA_DIR/noop/nginx.pid;
error_log $FA_DIR/noop/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $FA_DIR/noop/tmp/body;
    proxy_temp_path $FA_DIR/noop/tmp/proxy;
    fastcgi_temp_path $FA_DIR/noop/tmp/fastcgi;
    uwsgi_temp_path $FA_DIR/noop/tmp/uwsgi;
    scgi_temp_path $FA_DIR/noop/tmp/scgi;
    server {
        listen 127.0.0.1:$FA_NOOP_PORT;
        location / {
            return 200;
        }
    }
}
CONF
"$NGINX_BIN" -c "$FA_DIR/noop/nginx.conf" -p "$FA_DIR/noop/" -e "$FA_DIR/noop/error.log" &
FA_NOOP_PID=$!
cat >"$FA_DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $FA_DIR/nginx.pid;
error_log $FA_DIR/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $FA_DIR/tmp/body;
    proxy_temp_path $FA_DIR/tmp/proxy;
    fastcgi_temp_path $FA_DIR/tmp/fastcgi;
    uwsgi_temp_path $FA_DIR/tmp/uwsgi;
    scgi_temp_path $FA_DIR/tmp/scgi;
    include $FA_DIR/passgate-upstream.conf;
    upstream app {
        server 127.0.0.1:$FA_APP_PORT;
        keepalive 16;
    }
    upstream noop {
        server 127.0.0.1:$FA_NOOP_PORT;
        keepalive 16;
    }
    # The app.
    server {
        listen 127.0.0.1:$FA_APP_PORT;
        root $FA_DIR;
        location / {
            try_files /page.html =404;
        }
    }
    server {
        listen 127.0.0.1:$FA_NGINX_PORT;
        server_name bench.passgate.test;
        include $FA_DIR/passgate-location.conf;
        location / {
            include $FA_DIR/passgate-authrequest.conf;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    # The bounds: the same subrequest (keep-alive, no body) to a do-nothing authoriser, and to
    # passgate's cheapest answer.
    server {
        listen 127.0.0.1:$FA_CEILING_PORT;
        server_name bench.passgate.test;
        location = /internal/noop {
            internal;
            proxy_pass http://noop/;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            auth_request /internal/noop;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    server {
        listen 127.0.0.1:$FA_FLOOR_PORT;
        server_name bench.passgate.test;
        location = /internal/asset {
            internal;
            proxy_pass http://passgate$FA_ASSET;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            auth_request /internal/asset;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    server {
        listen 127.0.0.1:$FA_PLAIN_PORT;
        server_name bench.passgate.test;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
"$NGINX_BIN" -c "$FA_DIR/nginx.conf" -p "$FA_DIR/" -e "$FA_DIR/error.log" &
FA_NGINX_PID=$!
for port in "$FA_PLAIN_PORT" "$FA_NOOP_PORT"; do
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
done

# A signed-in SSO cookie: the sign-in page through passgate, as a browser on the auth host.
fa_jar="$FA_DIR/jar"
fa_auth="http://auth.passgate.test:$FA_PASSGATE_PORT"
fa_resolve=(--resolve "auth.passgate.test:$FA_PASSGATE_PORT:127.0.0.1")
fa_csrf=$(curl -sf "${fa_resolve[@]}" -c "$fa_jar" -b "$fa_jar" "$fa_auth/login" | python3 -c '
import re, sys
tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", sys.stdin.read()).group(0)
print(re.search(r"value=\"([^\"]*)\"", tag).group(1))')
curl -s -o /dev/null "${fa_resolve[@]}" -c "$fa_jar" -b "$fa_jar" \
  --data-urlencode "username=user00003" --data-urlencode "password=$PASSWORD" \
  --data-urlencode "csrf_token=$fa_csrf" "$fa_auth/login"
SSO_TOKEN=$(awk '$6 == "passgate_sso" {print $7}' "$fa_jar")
[ -n "$SSO_TOKEN" ] || { echo "bench: no SSO cookie from the sign-in" >&2; exit 1; }

FA_PAGE=(-H "Host: bench.passgate.test" -H "Cookie: passgate_sso=$SSO_TOKEN")
FA_ASK=(-H "X-Original-URL: http://bench.passgate.test/" -H "X-Original-Method: GET"
  -H "Cookie: passgate_sso=$SSO_TOKEN")
expect_200 "${FA_PAGE[@]}" "http://127.0.0.1:$FA_NGINX_PORT/"
expect_200 -H "Host: bench.passgate.test" "http://127.0.0.1:$FA_PLAIN_PORT/"
expect_200 -H "Host: bench.passgate.test" "http://127.0.0.1:$FA_CEILING_PORT/"
expect_200 -H "Host: bench.passgate.test" "http://127.0.0.1:$FA_FLOOR_PORT/"
expect_200 "${FA_ASK[@]}" "http://127.0.0.1:$FA_PASSGATE_PORT/api/authz/auth-request"
# Without the cookie the protected page is refused (so the 200s above are the decision's).
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: bench.passgate.test" \
  "http://127.0.0.1:$FA_NGINX_PORT/")
[ "$status" = 302 ] || { echo "bench: the protected page without a cookie answered $status" >&2; exit 1; }

for run in $(seq 1 "$RUNS"); do
  say "forward auth, run $run of $RUNS"
  MEASURED_PID=$FA_PID wrk_run fa_nginx 16 "$SECS" -s "$REPORT" "${FA_PAGE[@]}" \
    "http://127.0.0.1:$FA_NGINX_PORT/"
  MEASURED_PID=$FA_PID wrk_run fa_plain 16 "$SECS" -s "$REPORT" -H "Host: bench.passgate.test" \
    "http://127.0.0.1:$FA_PLAIN_PORT/"
  MEASURED_PID=$FA_PID wrk_run fa_direct 16 "$SECS" -s "$REPORT" "${FA_ASK[@]}" \
    "http://127.0.0.1:$FA_PASSGATE_PORT/api/authz/auth-request"
  MEASURED_PID=$FA_PID wrk_run fa_healthz 16 "$SECS" -s "$REPORT" \
    "http://127.0.0.1:$FA_PASSGATE_PORT/healthz"
  MEASURED_PID=$FA_PID wrk_run fa_ceiling 16 "$SECS" -s "$REPORT" -H "Host: bench.passgate.test" \
    "http://127.0.0.1:$FA_CEILING_PORT/"
  MEASURED_PID=$FA_PID wrk_run fa_floor 16 "$SECS" -s "$REPORT" -H "Host: bench.passgate.test" \
    "http://127.0.0.1:$FA_FLOOR_PORT/"
done
kill -TERM "$FA_NGINX_PID" "$FA_NOOP_PID" "$FA_PID" 2>/dev/null || true
wait "$FA_NGINX_PID" "$FA_NOOP_PID" "$FA_PID" 2>/dev/null || true
