"""Real reverse proxy: Debian's nginx terminates TLS in front of the release binary.

Python 3 standard library only (reuses tests/fault/harness.py). Called by tests/proxy/run.sh,
which provides the certificate and cleans up by process id. Every process started here
(passgate and nginx) is written to `<workdir>/server.pids`. Loopback traffic only: nginx
listens on 127.0.0.1, passgate on 127.0.0.1, the clients connect from 127.0.0.2 / 127.0.0.3.

Phases, each on a fresh SQLite database behind a fresh nginx:
  trusted   PASSGATE_TRUSTED_PROXIES=127.0.0.1: audit source_ip is the real client; a forged
            X-Forwarded-For is not believed; Secure cookies and a full sign-in over https.
  throttle  PASSGATE_TRUSTED_PROXIES=127.0.0.1: 20 failures from 127.0.0.2 lock that address
            only; 127.0.0.3 keeps its own counter.
  untrusted no trusted proxies: everything is attributed to nginx (127.0.0.1), whatever
            X-Forwarded-For says; so one client's failures lock out everybody behind it.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
import harness  # noqa: E402
from harness import ADMIN, RESULTS, Server, check, free_port, log  # noqa: E402

CLIENT = "127.0.0.2"
OTHER_CLIENT = "127.0.0.3"
PROXY_IP = "127.0.0.1"
FORGED = "6.6.6.6"

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

    upstream passgate {{
        server 127.0.0.1:{upstream};
        keepalive 16;
        # passgate closes a connection idle for 10 s (its header read timeout): let go first.
        keepalive_timeout 5s;
    }}

    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate     {cert};
        ssl_certificate_key {key};
        ssl_protocols       TLSv1.2 TLSv1.3;
        client_max_body_size 64k;

        location / {{
            proxy_pass http://passgate;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Request-Id $request_id;
            proxy_connect_timeout 5s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


class Nginx:
    """Our own nginx master (daemon off), never the system service."""

    def __init__(self, nginx_bin, workdir, cert, key, name):
        self.bin = nginx_bin
        self.prefix = os.path.join(workdir, name)
        self.cert = cert
        self.key = key
        self.pid_file = os.path.join(workdir, "server.pids")
        self.proc = None
        self.port = None

    def start(self, upstream_port):
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        os.chmod(self.prefix, 0o755)
        conf = os.path.join(self.prefix, "nginx.conf")
        for _attempt in range(5):
            self.port = free_port()
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(prefix=self.prefix, upstream=upstream_port,
                                          port=self.port, cert=self.cert, key=self.key))
            base = [self.bin, "-c", conf, "-p", self.prefix + "/", "-e", self.prefix + "/error.log"]
            t = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, timeout=30)
            if t.returncode != 0:
                raise RuntimeError(f"nginx -t failed:\n{t.stdout}{t.stderr}")
            out = open(os.path.join(self.prefix, "stdout.log"), "ab")
            self.proc = subprocess.Popen(base, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)
            out.close()
            with open(self.pid_file, "a") as f:
                f.write(f"{self.proc.pid}\n")
            if self._wait_ready(15):
                return
            self.stop()
        raise RuntimeError("nginx did not start:\n" + self.error_tail())

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                r = https_request(self.port, "GET", "/healthz", source=CLIENT, timeout=3)
                if r.status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def error_tail(self, n=30):
        try:
            with open(os.path.join(self.prefix, "error.log"), errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


# ---------------------------------------------------------------------------------------
# An https client from a chosen loopback source address.

TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the throwaway self-signed certificate


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def json(self):
        try:
            return json.loads(self.body.decode())
        except ValueError:
            return {}

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def https_request(port, method, path, source, headers=None, body=None, timeout=30):
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=TLS,
                                       source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class Client:
    """One browser-ish client: source address and a cookie jar."""

    def __init__(self, nginx, source):
        self.nginx = nginx
        self.source = source
        self.cookies = {}

    def request(self, method, path, headers=None, body=None, form=None, js=None):
        hdrs = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif js is not None:
            body = json.dumps(js).encode()
            hdrs["Content-Type"] = "application/json"
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        r = https_request(self.nginx.port, method, path, self.source, hdrs, body)
        for v in r.all("set-cookie"):
            pair = v.split(";", 1)[0]
            if "=" in pair:
                k, val = pair.split("=", 1)
                if val and "max-age=0" not in v.lower():
                    self.cookies[k.strip()] = val
                else:
                    self.cookies.pop(k.strip(), None)
        return r

    def api_login(self, username, password, xff=None):
        headers = {"X-Forwarded-For": xff} if xff else None
        return self.request("POST", "/api/v2/auth/login", headers=headers,
                            js={"username": username, "password": password})


# ---------------------------------------------------------------------------------------
# Reading the database (read-only, while the server runs; SQLite WAL allows it).

def db_rows(server, sql, args=()):
    con = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def audit_rows(server, since_id=0):
    return db_rows(server, "SELECT audit_id, action, actor_name, target_name, detail, source_ip "
                           "FROM audit_log WHERE audit_id > ? ORDER BY audit_id", (since_id,))


def last_audit_id(server):
    return db_rows(server, "SELECT COALESCE(MAX(audit_id), 0) FROM audit_log")[0][0]


def new_login_rows(server, since, action):
    return [r for r in audit_rows(server, since) if r[1] == action]


def throttle_rows(server):
    return {k: (f, lu) for k, f, lu in db_rows(
        server, "SELECT throttle_key, failures, locked_until FROM login_throttle")}


def nobody(tag):
    return f"nobody-{tag}-{secrets.token_hex(3)}"


# ---------------------------------------------------------------------------------------

def start_pair(args, phase, trusted):
    env = {"PASSGATE_COOKIE_SECURE": "true", "PASSGATE_LOG": "info"}
    if trusted:
        env["PASSGATE_TRUSTED_PROXIES"] = PROXY_IP
    db = os.path.join(args.workdir, f"{phase}.sqlite3")
    server = Server(args.binary, args.workdir, db, env=env, name=f"{phase}-passgate")
    server.start()
    if not server.admin_initial_password:
        raise RuntimeError(f"{phase}: the first start printed no admin password:\n{server.log_tail()}")
    nginx = Nginx(args.nginx, args.workdir, args.cert, args.key, f"{phase}-nginx")
    nginx.start(server.port)
    log(f"{phase}: passgate on 127.0.0.1:{server.port}, nginx https on 127.0.0.1:{nginx.port}"
        f", trusted proxies: {PROXY_IP if trusted else 'none'}")
    return server, nginx


def phase_trusted(args):
    server, nginx = start_pair(args, "trusted", trusted=True)
    try:
        c = Client(nginx, CLIENT)

        # (a) a failed login is attributed to the real client.
        since = last_audit_id(server)
        r = c.api_login(nobody("a"), "wrong-password-1")
        check(r.status == 401, "trusted: failed login through nginx answers 401", r)
        rows = new_login_rows(server, since, "login_failed")
        check(len(rows) == 1 and rows[0][5] == CLIENT,
              f"trusted: failed login audited with source_ip {CLIENT}", rows)

        # (a) a successful login too (admin's first password; the change is still due).
        since = last_audit_id(server)
        r = c.api_login(ADMIN, server.admin_initial_password)
        check(r.status == 200, "trusted: admin login through nginx answers 200", r)
        rows = new_login_rows(server, since, "login")
        check(len(rows) == 1 and rows[0][5] == CLIENT and rows[0][2] == ADMIN,
              f"trusted: successful login audited with source_ip {CLIENT}", rows)

        # (c) a forged X-Forwarded-For is not believed: nginx appends the real peer, and
        # passgate takes the rightmost untrusted hop.
        for forged in (FORGED, f"{FORGED}, {PROXY_IP}"):
            since = last_audit_id(server)
            r = c.api_login(nobody("c"), "wrong-password-2", xff=forged)
            check(r.status == 401, f"trusted: forged XFF {forged!r}: 401", r)
            rows = new_login_rows(server, since, "login_failed")
            check(len(rows) == 1 and rows[0][5] == CLIENT,
                  f"trusted: forged XFF {forged!r} recorded as {CLIENT}", rows)
        since = last_audit_id(server)
        r = c.api_login(ADMIN, server.admin_initial_password, xff=FORGED)
        rows = new_login_rows(server, since, "login")
        check(r.status == 200 and len(rows) == 1 and rows[0][5] == CLIENT,
              f"trusted: successful login with forged XFF recorded as {CLIENT}", (r, rows))
        everything = audit_rows(server) + [(k,) for k in throttle_rows(server)]
        check(not any(FORGED in str(row) for row in everything),
              f"trusted: {FORGED} appears nowhere in audit_log or login_throttle", everything)

        # (d) secure cookies behind TLS termination, and a full sign-in over https.
        b = Client(nginx, CLIENT)
        page = b.request("GET", "/login")
        check(page.status == 200, "https: GET /login answers 200", page)
        # Before sign-in there is no session (SPEC §3a): only the form's CSRF cookie.
        cookies = [v for v in page.all("set-cookie") if v.startswith("passgate_csrf=")]
        attrs = [a.strip().lower() for a in cookies[0].split(";")] if cookies else []
        check(bool(cookies) and "secure" in attrs and "httponly" in attrs
              and "samesite=strict" in attrs,
              "https: the login page sets passgate_csrf with Secure; HttpOnly; SameSite=Strict",
              page.all("set-cookie"))
        check(not any(v.startswith("passgate_session=") for v in page.all("set-cookie")),
              "https: the login page starts no session", page.all("set-cookie"))
        m = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
        check(m is not None, "https: the login page carries a csrf_token", page.body[:300])
        token = m.group(1).decode() if m else ""
        r = b.request("POST", "/login", form={"username": ADMIN,
                                              "password": server.admin_initial_password,
                                              "csrf_token": token})
        location = r.header("location") or ""
        check(r.status == 303 and location.split("?")[0].endswith("/panel/change_password")
              and not location.startswith("http://"),
              "https: sign-in answers 303 to /panel/change_password", (r, location))
        post_cookies = [v for v in r.all("set-cookie") if v.startswith("passgate_session=")]
        check(bool(post_cookies) and all(
                  {"secure", "httponly", "samesite=lax"} <= {a.strip().lower() for a in v.split(";")}
                  for v in post_cookies),
              "https: the session cookie set at sign-in is Secure; HttpOnly; SameSite=Lax",
              post_cookies)
        target = location if location.startswith("/") else urllib.parse.urlsplit(location).path
        page = b.request("GET", target or "/panel/change_password")
        check(page.status == 200 and b"csrf_token" in page.body,
              "https: the change-password page loads (200) with the session cookie",
              (page, page.header("location")))
        anon = Client(nginx, CLIENT)
        page = anon.request("GET", "/panel/change_password")
        check(page.status in (302, 303) and "/login" in (page.header("location") or ""),
              "https: the same page without the cookie redirects to /login", page)
        rows = [r for r in audit_rows(server) if r[1] == "login"]
        check(bool(rows) and rows[-1][5] == CLIENT,
              f"https: the web sign-in is audited with source_ip {CLIENT}", rows[-1:])

        # (e) a Crafty client over https: trailing slashes, `bearer`, and the gate holds.
        crafty = Client(nginx, CLIENT)
        r = crafty.request("POST", "/api/v2/auth/login/",
                           js={"username": ADMIN, "password": server.admin_initial_password})
        check(r.status == 200, "https: Crafty's POST /api/v2/auth/login/ answers 200", r)
        token = r.json["data"]["token"] if r.status == 200 else ""
        r = crafty.request("GET", "/api/v2/users/", headers={"Authorization": f"bearer {token}"})
        check(r.status == 403 and b"PASSWORD_CHANGE_REQUIRED" in r.body,
              "https: the flagged admin's GET /api/v2/users/ is held by the gate", r)
        r = crafty.request("GET", "/api/v2/")
        check(r.status == 200 and b'"version"' in r.body, "https: GET /api/v2/ answers the version", r)
    finally:
        nginx.stop()
        server.stop()


def phase_throttle(args):
    server, nginx = start_pair(args, "throttle", trusted=True)
    try:
        c = Client(nginx, CLIENT)
        statuses = [c.api_login(nobody(f"t{i}"), "wrong-password").status for i in range(20)]
        check(statuses == [401] * 20,
              f"throttle: 20 failed logins from {CLIENT} (distinct usernames) each answer 401",
              statuses)
        r = c.api_login(nobody("t20"), "wrong-password")
        check(r.status == 429, f"throttle: the 21st attempt from {CLIENT} answers 429",
              (r, r.header("retry-after")))
        r = c.api_login(ADMIN, server.admin_initial_password)
        check(r.status == 429, f"throttle: even the right password from {CLIENT} answers 429", r)
        o = Client(nginx, OTHER_CLIENT)
        r = o.api_login(nobody("o"), "wrong-password")
        check(r.status == 401, f"throttle: a client from {OTHER_CLIENT} still gets 401", r)
        r = o.api_login(ADMIN, server.admin_initial_password)
        check(r.status == 200, f"throttle: and {OTHER_CLIENT} can still sign in", r)
        rows = throttle_rows(server)
        check(f"ip:{CLIENT}" in rows and rows[f"ip:{CLIENT}"][1] is not None
              and f"ip:{PROXY_IP}" not in rows
              and f"ip:{OTHER_CLIENT}" in rows and rows[f"ip:{OTHER_CLIENT}"][1] is None,
              f"throttle: login_throttle locks ip:{CLIENT} only (no ip:{PROXY_IP})", rows)
        failed = [r for r in audit_rows(server) if r[1] == "login_failed"]
        by_ip = {}
        for r in failed:
            by_ip[r[5]] = by_ip.get(r[5], 0) + 1
        check(by_ip == {CLIENT: 20, OTHER_CLIENT: 1},
              "throttle: audit_log has 20 failures from .2, 1 from .3 (a 429 is not audited)",
              by_ip)
    finally:
        nginx.stop()
        server.stop()


def phase_untrusted(args):
    server, nginx = start_pair(args, "untrusted", trusted=False)
    try:
        c = Client(nginx, CLIENT)
        for xff in (None, FORGED, f"{FORGED}, 10.1.2.3"):
            since = last_audit_id(server)
            r = c.api_login(nobody("u"), "wrong-password", xff=xff)
            rows = new_login_rows(server, since, "login_failed")
            check(r.status == 401 and len(rows) == 1 and rows[0][5] == PROXY_IP,
                  f"untrusted: failed login (XFF {xff!r}) recorded as the proxy {PROXY_IP}",
                  (r, rows))
        since = last_audit_id(server)
        r = c.api_login(ADMIN, server.admin_initial_password, xff=FORGED)
        rows = new_login_rows(server, since, "login")
        check(r.status == 200 and len(rows) == 1 and rows[0][5] == PROXY_IP,
              f"untrusted: successful login (XFF {FORGED!r}) recorded as {PROXY_IP}", (r, rows))
        everything = audit_rows(server) + [(k,) for k in throttle_rows(server)]
        check(not any(FORGED in str(row) or CLIENT in str(row) for row in everything),
              f"untrusted: neither {FORGED} nor {CLIENT} appears in audit_log or login_throttle",
              everything)
        # The documented consequence: everybody behind the proxy shares one counter.
        o = Client(nginx, OTHER_CLIENT)
        statuses = []
        for i in range(40):
            who = c if i % 2 == 0 else o
            statuses.append(who.api_login(nobody(f"s{i}"), "wrong-password").status)
            if statuses[-1] == 429:
                break
        # 3 failures above, + 1 success taken back: 17 more failures reach 20.
        check(statuses.count(401) == 17 and statuses[-1] == 429,
              "untrusted: .2 and .3 share the proxy's counter and are locked together",
              statuses)
        rows = throttle_rows(server)
        check(set(k for k in rows if k.startswith("ip:")) == {f"ip:{PROXY_IP}"},
              f"untrusted: the only address counter is ip:{PROXY_IP}", rows)
    finally:
        nginx.stop()
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--nginx", default="nginx")
    p.add_argument("--workdir", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    args = p.parse_args()
    harness.install_signal_exit()
    for phase in (phase_trusted, phase_throttle, phase_untrusted):
        try:
            phase(args)
        except Exception as e:  # a crashed phase counts as one failure, the others still run
            import traceback
            traceback.print_exc()
            check(False, f"{phase.__name__} raised {type(e).__name__}: {e}")
    print(f"proxy: {RESULTS['passed']} passed, {RESULTS['failed']} failed", flush=True)
    return 0 if RESULTS["failed"] == 0 and RESULTS["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
