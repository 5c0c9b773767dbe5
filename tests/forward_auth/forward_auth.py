"""Forward authentication through real proxies (SPEC §15.5): the nginx and Caddy snippets of
docs/proxies.md, read from that file, served by Debian's nginx and Caddy in front of an app
that echoes the headers it receives (echo.py), with the release binary as passgate.

Python 3 standard library only (reuses tests/fault/harness.py). Called by
tests/forward_auth/run.sh, which cleans up by process id: every process started here is
written to `<workdir>/server.pids`. Loopback only. Host names are under the test cookie domain
`passgate.test`, sent as `Host` headers to 127.0.0.1.

For each proxy, on a fresh database behind a fresh proxy:
  - no cookie → the sign-in page, carrying the app's URL; a script request → 401 (Caddy);
  - the whole walk: sign-in with a temporary password, the forced change, back at the app
    with the identity headers; a second app opens without a password;
  - a client's own Remote-* headers never reach the app (also on a public path, where the
    headers are empty), and a spoofed X-Forwarded-Host / X-Original-URL decides nothing;
  - outside the app's roles (or a `deny` app) → 403, and a role given or taken away counts
    at the next request;
  - an administrator's reset → the next request goes to the sign-in page again;
  - sign-out ends both apps; an `rd` outside the domain is never followed;
  - a peer that is not a trusted proxy gets 403 UNTRUSTED_PROXY.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
import harness  # noqa: E402
from harness import Server, check, free_port, log  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOMAIN = "passgate.test"
AUTH = f"auth.{DOMAIN}"
WIKI = f"wiki.{DOMAIN}"
FILES = f"files.{DOMAIN}"
ADMIN_APP = f"admin.{DOMAIN}"
OLD = f"old.{DOMAIN}"
PASSWORD = "Orchid-Lantern-Basalt-42"
NEW_PASSWORD = "Copper-Meadow-Violin-29"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# --- the snippets, as documented ---------------------------------------------------------

def snippets():
    """Every `<!-- snippet: NAME -->` block of docs/proxies.md, by name."""
    text = open(os.path.join(ROOT, "docs", "proxies.md"), encoding="utf-8").read()
    found = dict(re.findall(r"<!-- snippet: (\S+) -->\s*```\w*\n(.*?)```", text, re.S))
    for name in ("nginx/passgate-upstream.conf", "nginx/passgate-location.conf",
                 "nginx/passgate-authrequest.conf", "caddy/Caddyfile"):
        if name not in found:
            raise SystemExit(f"docs/proxies.md has no snippet {name}")
    return found


def at_passgate(snippet, port):
    """The documented snippet with passgate's address (127.0.0.1:8000 in the docs) replaced."""
    if "127.0.0.1:8000" not in snippet:
        raise SystemExit("the snippet no longer names passgate as 127.0.0.1:8000")
    return snippet.replace("127.0.0.1:8000", f"127.0.0.1:{port}")


# --- processes -----------------------------------------------------------------------------

class Process:
    def __init__(self, workdir, name, argv, env=None, ready=None):
        self.workdir = workdir
        self.name = name
        self.argv = argv
        self.env = env
        self.ready = ready
        self.proc = None

    def start(self):
        out = open(os.path.join(self.workdir, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        out.close()
        with open(os.path.join(self.workdir, "server.pids"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")

    def log_tail(self):
        try:
            return open(os.path.join(self.workdir, f"{self.name}.log"), errors="replace").read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_echo(workdir):
    port = free_port()
    echo = Process(workdir, "echo", [sys.executable, os.path.join(ROOT, "tests", "forward_auth", "echo.py"), str(port)],
                   ready=lambda: listening(port))
    echo.start()
    return echo, port


def nginx_config(prefix, listen_port, passgate_port, echo_port, docs):
    """Writes `<prefix>/nginx.conf`: passgate's host, the apps behind the documented
    snippets (included as files, as the docs say), and a default server that answers no
    other name. Returns its path."""
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    os.chmod(prefix, 0o755)
    with open(os.path.join(prefix, "passgate-upstream.conf"), "w") as f:
        f.write(at_passgate(docs["nginx/passgate-upstream.conf"], passgate_port))
    with open(os.path.join(prefix, "passgate-location.conf"), "w") as f:
        f.write(docs["nginx/passgate-location.conf"])
    with open(os.path.join(prefix, "passgate-authrequest.conf"), "w") as f:
        f.write(docs["nginx/passgate-authrequest.conf"])
    conf = f"""
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/passgate-upstream.conf;

    server {{
        listen 127.0.0.1:{listen_port};
        server_name {AUTH};
        location / {{
            proxy_pass http://passgate;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        server_name {WIKI} {FILES} {ADMIN_APP} {OLD};
        include {prefix}/passgate-location.conf;
        location / {{
            include {prefix}/passgate-authrequest.conf;
            proxy_pass http://127.0.0.1:{echo_port};
        }}
    }}
    server {{
        listen 127.0.0.1:{listen_port} default_server;
        server_name _;
        return 444;
    }}
}}
"""
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def start_nginx(nginx_bin, workdir, listen_port, passgate_port, echo_port, docs):
    prefix = os.path.join(workdir, "nginx")
    path = nginx_config(prefix, listen_port, passgate_port, echo_port, docs)
    argv = [nginx_bin, "-c", path, "-p", prefix + "/", "-e", prefix + "/error.log"]
    t = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True, timeout=30)
    if t.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{t.stdout}{t.stderr}")
    proc = Process(workdir, "nginx", argv, ready=lambda: listening(listen_port))
    proc.start()
    return proc


def start_caddy(caddy_bin, workdir, listen_port, passgate_port, echo_port, docs):
    prefix = os.path.join(workdir, "caddy")
    os.makedirs(prefix, exist_ok=True)
    documented = at_passgate(docs["caddy/Caddyfile"], passgate_port)
    # The documented `(passgate)` snippet as it is; the sites are this test's (plain http on
    # a loopback port instead of the documented https names).
    snippet = re.search(r"^\(passgate\) \{\n.*?^\}\n", documented, re.S | re.M)
    if not snippet:
        raise SystemExit("docs/proxies.md: the Caddyfile has no (passgate) snippet")
    conf = f"""{{
	admin off
	auto_https off
	storage file_system {prefix}/data
}}

{snippet.group(0)}
http://{AUTH}:{listen_port} {{
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:{passgate_port}
}}

http://{WIKI}:{listen_port}, http://{FILES}:{listen_port}, http://{ADMIN_APP}:{listen_port}, http://{OLD}:{listen_port} {{
	bind 127.0.0.1
	import passgate
	reverse_proxy 127.0.0.1:{echo_port}
}}
"""
    path = os.path.join(prefix, "Caddyfile")
    with open(path, "w") as f:
        f.write(conf)
    env = dict(os.environ, HOME=prefix, XDG_DATA_HOME=prefix, XDG_CONFIG_HOME=prefix)
    proc = Process(workdir, "caddy", [caddy_bin, "run", "--config", path, "--adapter", "caddyfile"],
                   env=env, ready=lambda: listening(listen_port))
    proc.start()
    return proc


# --- a browser of sorts ----------------------------------------------------------------------

class Browser:
    """Talks to the proxy on 127.0.0.1:PORT with the host name in `Host`, keeps cookies as
    a browser would (a `Domain=` cookie for every host below it, the others host-only)."""

    def __init__(self, port):
        self.port = port
        self.jar = {}  # (name, domain or host, host_only) -> value

    def cookie_header(self, host):
        pairs = []
        for (name, where, host_only), value in self.jar.items():
            if (host_only and host == where) or (not host_only and (host == where or host.endswith("." + where))):
                pairs.append(f"{name}={value}")
        return "; ".join(pairs)

    def take(self, host, set_cookie):
        parts = [p.strip() for p in set_cookie.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}
        domain = attrs.get("domain", "").lstrip(".").lower()
        key = (name, domain or host, not domain)
        if not value or attrs.get("max-age") == "0":
            self.jar.pop(key, None)
        else:
            self.jar[key] = value

    def request(self, method, url, headers=None, form=None):
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname
        path = parsed.path or "/"
        if parsed.query:
            path += "?" + parsed.query
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = {"Host": f"{host}:{self.port}", "Accept": HTML}
        cookies = self.cookie_header(host)
        if cookies:
            hdrs["Cookie"] = cookies
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                self.take(host, value)
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def follow(self, url, limit=10, **kw):
        """GETs `url`, following redirects; returns (status, headers, body, last url)."""
        for _ in range(limit):
            status, headers, body = self.get(url, **kw)
            if status in (301, 302, 303, 307, 308) and "location" in headers:
                url = urllib.parse.urljoin(url, headers["location"])
                continue
            return status, headers, body, url
        raise AssertionError(f"too many redirects from {url}")

    def submit(self, page_url, body, fields):
        """Posts the page's form (its hidden fields, the CSRF token among them, plus
        `fields`) to its action; follows the 303s; returns (status, headers, body, url)."""
        # The form that has the fields to fill in (a page may also have the sign-out form);
        # with no fields, the page's last form (the sign-out confirmation's own).
        forms = re.findall(rb"<form[^>]*method=\"post\"[^>]*>.*?</form>", body, re.S)
        wanted = [f for f in forms
                  if all(f'name="{name}"'.encode() in f for name in fields)]
        if not wanted:
            raise AssertionError(f"no form with {list(fields)} on {page_url}: {body[:400]!r}")
        form_html = wanted[-1]
        action = re.search(rb'action="([^"]*)"', form_html).group(1).decode()
        data = {}
        for tag in re.findall(rb"<input[^>]*>", form_html):
            if b'type="hidden"' in tag:
                name = re.search(rb'name="([^"]*)"', tag).group(1).decode()
                value = re.search(rb'value="([^"]*)"', tag)
                data[name] = unescape(value.group(1).decode()) if value else ""
        data.update(fields)
        target = urllib.parse.urljoin(page_url, unescape(action))
        status, headers, reply = self.request("POST", target, form=data)
        if status in (302, 303) and "location" in headers:
            return self.follow(urllib.parse.urljoin(target, headers["location"]))
        return status, headers, reply, target


def unescape(text):
    return (text.replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&#39;", "'"))


def echoed(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def header_values(echo, name):
    return [v for k, v in echo["headers"] if k == name] if echo else None


# --- the checks ------------------------------------------------------------------------------

def run_checks(proxy, binary, passgate_port, listen_port, server):
    base = lambda host: f"http://{host}:{listen_port}"  # noqa: E731
    public = base(AUTH)
    admin = harness.Http(server)
    token = harness.bootstrap_admin(server, "Admin-Granite-Harbor-73")

    def cli(*args, stdin=""):
        env = harness.clean_env()
        env["PASSGATE_DATABASE_URL"] = server.url
        return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=60)

    for args in (
        ["role", "create", "admins"],
        ["app", "add", "Wiki", "--host", WIKI, "--public-path", "/public/"],
        ["app", "add", "Files", "--host", FILES],
        ["app", "add", "Old", "--host", OLD, "--policy", "deny"],
        ["app", "add", "Admin", "--host", ADMIN_APP, "--role", "admins"],
    ):
        done = cli(*args)
        if done.returncode != 0:
            raise RuntimeError(f"passgate {' '.join(args)}: {done.stderr}")
    harness.create_user(admin, token, "alice", PASSWORD, email="alice@passgate.test",
                        require_password_change=True)

    # 1. No cookie: the sign-in page, carrying the app's URL.
    browser = Browser(listen_port)
    target = f"{base(WIKI)}/page?x=1"
    status, headers, _ = browser.get(target)
    location = headers.get("location", "")
    check(status == 302 and location.startswith(f"{public}/login?")
          and "rd=" + urllib.parse.quote(target, safe="") in location,
          f"{proxy}: no cookie → 302 to the sign-in page with rd", f"{status} {location}")
    if proxy == "caddy":
        status, _, _ = browser.get(target, headers={"Accept": "application/json"})
        check(status == 401, f"{proxy}: a script request without a cookie → 401", str(status))
        status, _, _ = browser.get(target, headers={"X-Requested-With": "XMLHttpRequest"})
        check(status == 401, f"{proxy}: XMLHttpRequest without a cookie → 401", str(status))

    # 2. The walk: sign-in with the temporary password, the forced change, back at the app.
    status, _, body, url = browser.follow(location)
    check(status == 200 and b'name="rd"' in body and b"Wiki" in body,
          f"{proxy}: the sign-in page names the app and carries rd", f"{status} {url}")
    status, _, body, url = browser.submit(url, body, {"username": "alice", "password": PASSWORD})
    check(status == 200 and "/panel/change_password" in url,
          f"{proxy}: a temporary password leads to the forced change", f"{status} {url}")
    status, _, body, url = browser.submit(url, body, {"new_password": NEW_PASSWORD,
                                                      "confirm_password": NEW_PASSWORD})
    echo = echoed(body)
    check(status == 200 and url == target and echo is not None,
          f"{proxy}: after the change the browser is back at the app", f"{status} {url} {body[:200]!r}")
    check(header_values(echo, "remote-user") == ["alice"]
          and header_values(echo, "remote-email") == ["alice@passgate.test"]
          and header_values(echo, "remote-name") == ["alice"],
          f"{proxy}: the app receives the identity headers", str(echo))

    # 3. A client's own identity headers never reach the app.
    spoof = {"Remote-User": "mallory", "Remote-Groups": "admins", "Remote-Email": "m@evil.test",
             "Remote-Name": "Mallory"}
    status, _, body = browser.get(target, headers=spoof)
    echo = echoed(body)
    check(status == 200 and header_values(echo, "remote-user") == ["alice"]
          and header_values(echo, "remote-groups") in ([], [""])
          and "mallory" not in json.dumps(echo).lower(),
          f"{proxy}: a client's own Remote-* headers are overwritten", str(echo))
    anonymous = Browser(listen_port)
    status, _, body = anonymous.get(f"{base(WIKI)}/public/readme", headers=spoof)
    echo = echoed(body)
    check(status == 200 and echo is not None
          and all(v in ("",) for v in header_values(echo, "remote-user"))
          and "mallory" not in json.dumps(echo).lower(),
          f"{proxy}: a public path passes, and a client's Remote-User does not", str(echo))
    status, headers, _ = anonymous.get(f"{base(WIKI)}/public/%2e%2e/secret", headers=spoof)
    check(status == 302 and "/login?" in headers.get("location", ""),
          f"{proxy}: /public/%2e%2e/secret is not public", f"{status}")

    # 4. A second app opens without a password.
    status, _, body = browser.get(f"{base(FILES)}/")
    check(status == 200 and header_values(echoed(body), "remote-user") == ["alice"],
          f"{proxy}: a second app opens without a password", f"{status}")

    # 5. Refused: a deny app, also when the client claims to be asking for another one.
    status, _, _ = browser.get(f"{base(OLD)}/")
    check(status == 403, f"{proxy}: an app set to deny → 403", str(status))
    status, _, body = browser.get(f"{base(OLD)}/", headers={
        "X-Forwarded-Host": WIKI, "X-Original-URL": f"{base(WIKI)}/page",
        "X-Forwarded-Uri": "/page", "X-Forwarded-Proto": "http", "X-Forwarded-Method": "GET"})
    check(status == 403 and echoed(body) is None,
          f"{proxy}: spoofed X-Forwarded-Host / X-Original-URL decide nothing", str(status))

    # 5b. Outside the app's roles → 403; given the role, the next request passes with it.
    status, _, body = browser.get(f"{base(ADMIN_APP)}/")
    check(status == 403 and echoed(body) is None,
          f"{proxy}: outside the app's roles → 403", str(status))
    done = cli("role", "add", "admins", "alice")
    check(done.returncode == 0, f"{proxy}: passgate role add admins alice", done.stderr)
    status, _, body = browser.get(f"{base(ADMIN_APP)}/")
    check(status == 200 and header_values(echoed(body), "remote-groups") == ["admins"],
          f"{proxy}: in the role → 200 with Remote-Groups", f"{status} {body[:200]!r}")
    done = cli("role", "remove", "admins", "alice")
    status, _, _ = browser.get(f"{base(ADMIN_APP)}/")
    check(done.returncode == 0 and status == 403,
          f"{proxy}: the role taken away → 403 at the next request", str(status))

    # 6. rd outside the domain is never followed.
    status, headers, _ = browser.get(f"{public}/login?rd=" + urllib.parse.quote("http://evil.test/x"))
    check(status in (302, 303) and headers.get("location") == "/panel/dashboard",
          f"{proxy}: a signed-in user's rd outside the domain lands on the dashboard",
          f"{status} {headers.get('location')}")

    # 7. An administrator's reset: the next request goes to the sign-in page again.
    done = cli("user", "reset-password", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    check(done.returncode == 0, f"{proxy}: passgate user reset-password", done.stderr)
    status, headers, _ = browser.get(target)
    check(status == 302 and "/login?" in headers.get("location", ""),
          f"{proxy}: after an admin reset → sign in again", f"{status} {headers.get('location')}")

    # 8. Sign-out ends both apps.
    second = Browser(listen_port)
    status, _, body, url = second.follow(f"{base(WIKI)}/")
    status, _, body, url = second.submit(url, body, {"username": "alice", "password": PASSWORD})
    status, _, body, url = second.submit(url, body, {"new_password": "Saffron-Glacier-Violet-36",
                                                     "confirm_password": "Saffron-Glacier-Violet-36"})
    check(header_values(echoed(body), "remote-user") == ["alice"],
          f"{proxy}: signed in again after the reset", f"{status} {url}")
    status, _, body, url = second.follow(f"{public}/logout?rd=" + urllib.parse.quote(f"{base(WIKI)}/"))
    status, _, body, url = second.submit(url, body, {})
    check(status == 200 and "/login" in url,
          f"{proxy}: sign-out goes on to rd, which asks for a sign-in", f"{status} {url}")
    for host in (WIKI, FILES):
        status, headers, _ = second.get(f"{base(host)}/")
        check(status == 302 and "/login?" in headers.get("location", ""),
              f"{proxy}: after sign-out {host} asks for a sign-in", f"{status}")

    # 9. Only the proxy may ask.
    untrusted = http.client.HTTPConnection("127.0.0.1", passgate_port, timeout=10,
                                           source_address=("127.0.0.2", 0))
    untrusted.request("GET", "/api/authz/forward-auth", headers={
        "X-Forwarded-Method": "GET", "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": WIKI, "X-Forwarded-Uri": "/"})
    resp = untrusted.getresponse()
    body = resp.read()
    check(resp.status == 403 and echoed(body).get("error") == "UNTRUSTED_PROXY",
          f"{proxy}: a peer that is not a trusted proxy → 403 UNTRUSTED_PROXY", f"{resp.status} {body!r}")
    admin.close()


def phase(proxy, args, docs):
    workdir = os.path.join(args.workdir, proxy)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "server.pids"), "w"):
        pass
    processes = []
    try:
        echo, echo_port = start_echo(workdir)
        processes.append(echo)
        listen_port = free_port()
        server = Server(args.binary, workdir, os.path.join(workdir, "passgate.db"), env={
            "PASSGATE_PUBLIC_URL": f"http://{AUTH}:{listen_port}",
            "PASSGATE_SSO_COOKIE_DOMAIN": DOMAIN,
            "PASSGATE_TRUSTED_PROXIES": "127.0.0.1",
            "PASSGATE_LOG": "warn",
        }, name="passgate")
        server.start()
        processes.append(server)
        if proxy == "nginx":
            processes.append(start_nginx(args.nginx, workdir, listen_port, server.port, echo_port, docs))
        else:
            processes.append(start_caddy(args.caddy, workdir, listen_port, server.port, echo_port, docs))
        run_checks(proxy, args.binary, server.port, listen_port, server)
    finally:
        for process in reversed(processes):
            process.stop()
        with open(os.path.join(args.workdir, "server.pids"), "a") as all_pids, \
                open(os.path.join(workdir, "server.pids")) as these:
            all_pids.write(these.read())


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--snippet":
        # For the benchmark: one documented snippet with passgate's port.
        _, _, name, passgate_port = sys.argv
        snippet = snippets()[name]
        print(at_passgate(snippet, passgate_port) if "127.0.0.1:8000" in snippet else snippet, end="")
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "--nginx-conf":
        # For the browser suite: only the configuration, for its own nginx.
        _, _, prefix, listen_port, passgate_port, echo_port = sys.argv
        print(nginx_config(prefix, listen_port, passgate_port, echo_port, snippets()))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--caddy", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--only", choices=["nginx", "caddy"])
    args = parser.parse_args()
    harness.install_signal_exit()
    docs = snippets()
    for proxy in ("nginx", "caddy"):
        if args.only and args.only != proxy:
            continue
        log("==", proxy)
        phase(proxy, args, docs)
    harness.exit_with_results("forward_auth")


if __name__ == "__main__":
    sys.exit(main())
