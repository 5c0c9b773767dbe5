"""Shared harness for the black-box scripts (tests/fault, tests/soak, tests/schemathesis).

Python 3 standard library only. Starts the release binary on a SQLite file and a free
loopback port, talks HTTP/1.1 to it over keep-alive connections (optionally from a chosen
127.x.y.z source address, so that the login throttle's per-address counter can be kept
apart per client), and bootstraps the first superuser.

Every server process started here is written to `<workdir>/server.pids` so that the shell
wrapper's trap can end it by its id even if this process dies.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

ADMIN = "admin"
BOOT_MARKER = "Created the superuser 'admin'"


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


# The checks of a black-box suite (tests/proxy, tests/deb, tests/container): counted here,
# each logged PASS or FAIL.
RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    """Counts and logs one check (its detail only when it fails); returns `cond`."""
    if cond:
        RESULTS["passed"] += 1
        log("PASS", what)
    else:
        RESULTS["failed"] += 1
        log("FAIL", what, detail)
    return cond


def exit_with_results(suite):
    """Ends the suite: status 0 only when something was checked and nothing failed."""
    log(f"{suite}: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(0 if RESULTS["failed"] == 0 and RESULTS["passed"] > 0 else 1)


def new_password(tag=""):
    """A random password that passes the default policy (length and zxcvbn score)."""
    return "Pg" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y") + "-" + tag + "7"


def clean_env():
    """The environment without any PASSGATE_* setting of the caller's (a developer's or
    CI's), so that every run starts from the documented defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PASSGATE_")}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One passgate process on `db_path`; can be killed and started again on the same file."""

    def __init__(self, binary, workdir, db_path, env=None, name="server"):
        self.binary = os.path.abspath(binary)
        self.workdir = workdir
        self.db_path = db_path
        self.extra_env = dict(env or {})
        self.name = name
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.pid_file = os.path.join(workdir, "server.pids")
        self.admin_initial_password = None

    @property
    def url(self):
        return f"sqlite://{self.db_path}?mode=rwc"

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        for _attempt in range(5):
            self.port = free_port()
            env = clean_env()
            env["PASSGATE_LOG"] = "warn"
            env.update(self.extra_env)
            env["PASSGATE_DATABASE_URL"] = self.url
            env["PASSGATE_BIND"] = f"127.0.0.1:{self.port}"
            with open(self.log_path, "ab") as out:
                out.write(f"\n=== start {self.starts + 1} on port {self.port}\n".encode())
                out.flush()
                self.proc = subprocess.Popen(
                    [self.binary, "serve"],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    env=env,
                )
            with open(self.pid_file, "a") as f:
                f.write(f"{self.proc.pid}\n")
            self.starts += 1
            if self._wait_ready(timeout):
                self._read_admin_password()
                return
            text = self.log_tail()
            self.kill()
            if "Address already in use" not in text:
                raise RuntimeError(f"{self.name} did not start:\n{text}")
        raise RuntimeError(f"{self.name}: no free port after 5 tries")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _read_admin_password(self):
        if self.admin_initial_password:
            return
        lines = open(self.log_path, encoding="utf-8", errors="replace").read().splitlines()
        for i, line in enumerate(lines):
            if BOOT_MARKER in line:
                for follow in lines[i + 1:i + 6]:
                    if follow.startswith("    ") and follow.strip():
                        self.admin_initial_password = follow.strip()
                        return

    def log_tail(self, n=40):
        try:
            lines = open(self.log_path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def stop(self):
        """Graceful stop (SIGTERM), SIGKILL if it does not end in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except ValueError:
                self._json = {}
        return self._json

    @property
    def data(self):
        return self.json.get("data") if isinstance(self.json, dict) else None

    @property
    def code(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Refused(Exception):
    """The connection was refused: the request was never sent."""


class Http:
    """A keep-alive HTTP client for one server, optionally bound to a loopback source
    address, with a small cookie jar (for the web session)."""

    def __init__(self, server, source_ip=None, timeout=30.0):
        self.server = server
        self.source_ip = source_ip
        self.timeout = timeout
        self.conn = None
        self.conn_port = None
        self.cookies = {}

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    # The server closes a connection that sends no request for 10 s (its header read timeout);
    # like a browser or urllib3, the client does not reuse a connection idle for that long.
    IDLE_REUSE_SECONDS = 5.0

    def _connection(self):
        idle = time.monotonic() - getattr(self, "last_used", 0.0)
        if self.conn is not None and idle > self.IDLE_REUSE_SECONDS:
            self.close()
        if self.conn is None or self.conn_port != self.server.port:
            self.close()
            source = (self.source_ip, 0) if self.source_ip else None
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.server.port, timeout=self.timeout, source_address=source
            )
            try:
                conn.connect()
            except ConnectionRefusedError as e:
                raise Refused(str(e)) from e
            self.conn = conn
            self.conn_port = self.server.port
        return self.conn

    def request(self, method, path, body=None, headers=None, token=None, form=None):
        """Raises Refused when nothing was sent, OSError/HTTPException when the outcome is
        unknown (the connection broke after the request was sent)."""
        hdrs = {"Host": f"127.0.0.1:{self.server.port}"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        hdrs.update(headers or {})
        conn = self._connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
        except Exception:
            self.close()
            raise
        self.last_used = time.monotonic()
        headers_out = {}
        for k, v in resp.getheaders():
            headers_out.setdefault(k.lower(), v)
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                self._take_cookie(v)
        if resp.getheader("connection", "").lower() == "close":
            self.close()
        return Response(resp.status, headers_out, payload)

    def _take_cookie(self, value):
        pair = value.split(";", 1)[0]
        if "=" not in pair:
            return
        name, val = pair.split("=", 1)
        name = name.strip()
        lowered = value.lower()
        if not val or "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = val

    # JSON API helpers -------------------------------------------------------------------

    def api(self, method, path, body=None, token=None):
        return self.request(method, "/api/v2" + path, body=body, token=token)

    def login(self, username, password):
        return self.api("POST", "/auth/login", {"username": username, "password": password})

    # Web helpers ------------------------------------------------------------------------

    CSRF_RE = re.compile(rb'name="csrf_token" value="([^"]+)"')

    def csrf_from(self, body):
        m = self.CSRF_RE.search(body)
        return m.group(1).decode() if m else None

    def web_login(self, username, password):
        """GET /login for the CSRF token, then the plain form post. Returns (response, csrf
        of the next page or None)."""
        self.cookies.clear()
        page = self.request("GET", "/login")
        token = self.csrf_from(page.body)
        resp = self.request(
            "POST", "/login", form={"username": username, "password": password, "csrf_token": token or ""}
        )
        return resp


def expect(resp, status, what):
    if resp.status != status:
        raise AssertionError(f"{what}: expected {status}, got {resp.status}: {resp.body[:500]!r}")
    return resp


def bootstrap_admin(server, password):
    """Logs in as `admin` with the password printed at first start and sets `password`
    (the forced change). Returns a login token for the admin."""
    if not server.admin_initial_password:
        raise RuntimeError("the first start printed no admin password:\n" + server.log_tail())
    http_ = Http(server)
    r = expect(http_.login(ADMIN, server.admin_initial_password), 200, "admin first login")
    assert r.data["require_password_change"] is True, r
    token = r.data["token"]
    r = expect(http_.api("PATCH", "/users/@me", {"password": password}, token=token), 200,
               "admin forced change")
    token = r.data["token"]
    http_.close()
    return token


def create_user(http_, admin_token, username, password, **extra):
    body = {"username": username, "password": password}
    body.update(extra)
    r = expect(http_.api("POST", "/users", body, token=admin_token), 201, f"create {username}")
    return int(r.data["user_id"])


def install_signal_exit():
    """SIGTERM/SIGINT raise SystemExit so that `finally` blocks stop the servers."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class Counter:
    """A thread-safe tally of outcomes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def get(self, key):
        with self.lock:
            return self.counts.get(key, 0)

    def snapshot(self):
        with self.lock:
            return dict(sorted(self.counts.items()))


if __name__ == "__main__":
    sys.exit("a library, not a script")
