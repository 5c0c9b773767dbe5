"""The installed package's binary, started the way its unit and its container image start it.

Python 3 standard library only (reuses tests/fault/harness.py's HTTP client). Called by
tests/deb/run.sh after `dpkg -i`, as root. Every process started here is written to
`<workdir>/server.pids`, so the shell's trap can end it by its id.

Phase "unit": ExecStart of the installed passgate.service, with the installed env file read
as systemd reads an EnvironmentFile (plus a free port, the metrics listener and an audit
file: lines appended to a copy), in a fresh state directory standing in for
/var/lib/passgate (the WorkingDirectory), as a uid without a passwd entry (DynamicUser),
with no-new-privileges, an empty capability bounding set and umask 0077. The first start's
admin password is read from standard output (the journal), then: sign in (API and web
form), the forced change, sign in again; the database file belongs to that uid; /metrics
and the audit file answer; SIGHUP (ExecReload) keeps it serving; `passgate healthcheck`
passes, and fails once SIGTERM has stopped it.

Phase "image": the Dockerfile's ENV, USER, WORKDIR, ENTRYPOINT + CMD and HEALTHCHECK, read
from the Dockerfile, with /data in a temp directory: the HEALTHCHECK command passes, the
admin signs in, SIGTERM stops it.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import BOOT_MARKER, Http, check, exit_with_results, free_port, log, new_password  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# In systemd's DynamicUser range (61184–65519), with no passwd entry, as the unit's user.
SERVICE_UID = 61917

def environment_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them: `#` and `;` comments, blank
    lines, optional quotes, backslash continuations."""
    env = {}
    text = open(path, encoding="utf-8").read().replace("\\\n", "")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def unit_value(unit_text, key):
    values = [line.split("=", 1)[1] for line in unit_text.splitlines() if line.startswith(key + "=")]
    return values[-1] if values else None


class Process:
    """One passgate process, run with a command prefix (setpriv), an exact environment and a
    working directory; standard output and error go to files."""

    def __init__(self, workdir, name, argv, env, cwd, uid, umask=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.uid = uid
        self.umask = umask
        self.out_path = os.path.join(workdir, f"{name}.out")
        self.err_path = os.path.join(workdir, f"{name}.err")
        self.pid_file = os.path.join(workdir, "server.pids")
        self.proc = None
        self.port = None

    def as_user(self, argv):
        return [
            "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
            "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--",
        ] + argv

    def start(self):
        umask = self.umask

        def before():
            if umask is not None:
                os.umask(umask)

        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.as_user(self.argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                cwd=self.cwd, env=self.env, preexec_fn=before,
            )
        with open(self.pid_file, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def run(self, argv):
        """Another command as the same user, in the same environment (`passgate healthcheck`)."""
        return subprocess.run(
            self.as_user(argv), stdin=subprocess.DEVNULL, capture_output=True, cwd=self.cwd,
            env=self.env, timeout=30,
        )

    def text(self, which="out"):
        path = self.out_path if which == "out" else self.err_path
        try:
            return open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            return ""

    def wait_for_output(self, needle, timeout=60):
        """Waits until standard output shows `needle` (the process's own announcement)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                return needle in self.text()
            time.sleep(0.05)
        return False

    def admin_password(self):
        lines = self.text().splitlines()
        for i, line in enumerate(lines):
            if BOOT_MARKER in line:
                for follow in lines[i + 1:i + 6]:
                    if follow.startswith("    ") and follow.strip():
                        return follow.strip()
        return None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
            return None


def sign_in_and_change(http, password, what):
    """The first admin's walk: sign in with the printed password, the forced change through the
    API, then sign in with the new one (API and web form). Returns the new password."""
    first = http.login("admin", password)
    check(first.status == 200 and first.data and first.data.get("require_password_change") is True,
          f"{what}: the printed admin password signs in, a change is required", repr(first))
    token = (first.data or {}).get("token")
    new = new_password("deb")
    changed = http.api("PATCH", "/users/@me", {"password": new}, token=token)
    check(changed.status == 200, f"{what}: the forced change is accepted", repr(changed))
    again = http.login("admin", new)
    check(again.status == 200 and again.data.get("require_password_change") is False,
          f"{what}: the new password signs in without a pending change", repr(again))
    web = http.web_login("admin", new)
    check(web.status == 303 and web.header("location") == "/panel/dashboard",
          f"{what}: the web sign-in form leads to the dashboard", repr(web))
    dashboard = http.request("GET", "/panel/dashboard")
    check(dashboard.status == 200, f"{what}: the dashboard answers", repr(dashboard))
    return new


class Target:
    """What harness.Http needs: the port."""

    def __init__(self, port):
        self.port = port


def unit_phase(args, scratch):
    unit_text = open(args.unit, encoding="utf-8").read()
    exec_start = shlex.split(unit_value(unit_text, "ExecStart"))
    check(exec_start[0] == "/usr/bin/passgate" and os.access(exec_start[0], os.X_OK),
          "ExecStart runs the installed binary", str(exec_start))
    state = os.path.join(scratch, "state")       # stands in for /var/lib/passgate
    logs = os.path.join(scratch, "logs")         # stands in for /var/log/passgate
    for directory, mode in ((state, 0o700), (logs, 0o750)):
        os.mkdir(directory)
        os.chown(directory, SERVICE_UID, SERVICE_UID)
        os.chmod(directory, mode)
    env_copy = os.path.join(scratch, "passgate.env")
    shutil.copy(args.env_file, env_copy)
    port, metrics_port = free_port(), free_port()
    audit = os.path.join(logs, "audit.log")
    with open(env_copy, "a") as f:
        f.write(f"\nPASSGATE_BIND=127.0.0.1:{port}\n")
        f.write(f"PASSGATE_METRICS_BIND=127.0.0.1:{metrics_port}\n")
        f.write(f"PASSGATE_AUDIT_FILE={audit}\n")
    env = environment_file(env_copy)
    env["PATH"] = "/usr/bin:/bin"
    server = Process(args.workdir, "unit", exec_start, env, state, SERVICE_UID, umask=0o077)
    server.start()
    up = server.wait_for_output("passgate is listening")
    check(up, "the service starts from the installed env file", server.text("err")[-2000:])
    if not up:
        return
    password = server.admin_password()
    check(password is not None, "the first admin password is printed to standard output (the journal)")
    check(password is not None and password not in server.text("err"),
          "the password is not in the log (standard error)")
    db = os.path.join(state, "passgate.db")
    st = os.stat(db) if os.path.exists(db) else None
    check(st is not None and st.st_uid == SERVICE_UID and (st.st_mode & 0o077) == 0,
          "the SQLite database is in the state directory, the service's own, private (umask 0077)",
          f"{st}")
    http = Http(Target(port))
    if password:
        sign_in_and_change(http, password, "unit")
    metrics = Http(Target(metrics_port)).request("GET", "/metrics")
    check(metrics.status == 200 and b'passgate_sign_ins_total{outcome="success"}' in metrics.body,
          "/metrics answers on its own listener", repr(metrics))
    check(http.request("GET", "/metrics").status == 404, "/metrics is not on the public listener")
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        try:
            lines = [json.loads(line) for line in open(audit, encoding="utf-8")]
        except (OSError, ValueError):
            lines = []
        if sum(1 for line in lines if line.get("event") == "login") >= 3:
            break
        time.sleep(0.1)
    check(sum(1 for line in lines if line.get("event") == "login") >= 3,
          "the audit stream writes the sign-ins to the audit file", f"{lines[-3:]}")
    check(os.stat(audit).st_uid == SERVICE_UID if os.path.exists(audit) else False,
          "the audit file belongs to the service's user")
    health = server.run(["/usr/bin/passgate", "healthcheck"])
    check(health.returncode == 0, "passgate healthcheck passes while it serves",
          health.stderr.decode(errors="replace"))
    server.proc.send_signal(signal.SIGHUP)
    after_hup = http.request("GET", "/healthz")
    check(server.proc.poll() is None and after_hup.status == 200,
          "SIGHUP (systemctl reload) keeps it serving", repr(after_hup))
    status = server.stop()
    check(status == 0, "SIGTERM stops it cleanly (exit status 0)", f"status {status}")
    health = server.run(["/usr/bin/passgate", "healthcheck"])
    check(health.returncode == 1, "passgate healthcheck fails once it is stopped",
          f"status {health.returncode}")

    # The README's lock-out recovery: root runs the command line on the service's database;
    # the service starts again on it and the new temporary password signs in.
    recovery = subprocess.run(
        ["/usr/bin/passgate", "--database-url", f"sqlite://{db}?mode=rw", "user", "reset-password", "admin"],
        capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )
    found = re.search(r"temporary password: (\S+)", recovery.stdout.decode())
    temporary = found.group(1) if found else ""
    check(recovery.returncode == 0 and temporary, "root resets the admin's password at the console",
          recovery.stderr.decode(errors="replace"))
    foreign = [name for name in os.listdir(state) if os.stat(os.path.join(state, name)).st_uid != SERVICE_UID]
    check(not foreign, "the command line left no file the service cannot write", str(foreign))
    again = Process(args.workdir, "unit-again", exec_start, env, state, SERVICE_UID, umask=0o077)
    again.start()
    check(again.wait_for_output("passgate is listening"), "the service starts again on that database",
          again.text("err")[-2000:])
    if temporary:
        signed_in = Http(Target(port)).login("admin", temporary)
        check(signed_in.status == 200 and signed_in.data.get("require_password_change") is True,
              "the console's temporary password signs in, a change is required", repr(signed_in))
    check(again.stop() == 0, "and stops cleanly")


def dockerfile():
    """ENV, USER, WORKDIR, ENTRYPOINT, CMD and HEALTHCHECK of the runtime stage."""
    text = open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8").read().replace("\\\n", " ")
    stages = re.split(r"(?m)^FROM ", text)
    final = stages[-1]
    image = {"env": {}}
    for line in final.splitlines():
        line = line.strip()
        word, _, rest = line.partition(" ")
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                image["env"][key] = value
        elif word in ("USER", "WORKDIR"):
            image[word.lower()] = rest.strip()
        elif word in ("ENTRYPOINT", "CMD"):
            image[word.lower()] = json.loads(rest)
        elif word == "HEALTHCHECK":
            image["healthcheck"] = json.loads(rest[rest.index("CMD") + 3:].strip())
    return image


def image_phase(args, scratch):
    image = dockerfile()
    check(image.get("user", "root").split(":")[0] not in ("root", "0"), "the image runs as a non-root user",
          str(image.get("user")))
    check(image.get("workdir") == "/data", "the image works in /data")
    data = os.path.join(scratch, "data")
    uid = int(image["user"].split(":")[0])
    os.mkdir(data)
    os.chown(data, uid, uid)
    os.chmod(data, 0o700)
    port = free_port()
    env = {k: v.replace("/data", data) for k, v in image["env"].items()}
    env["PASSGATE_BIND"] = env["PASSGATE_BIND"].rsplit(":", 1)[0] + f":{port}"
    env["PATH"] = "/usr/bin:/bin"
    check(env["PASSGATE_BIND"].startswith("0.0.0.0:"), "the image listens on every interface")
    argv = image["entrypoint"] + image.get("cmd", [])
    argv[0] = shutil.which(argv[0], path="/usr/bin") or argv[0]
    server = Process(args.workdir, "image", argv, env, data, uid)
    server.start()
    up = server.wait_for_output("passgate is listening")
    check(up, "the image's start command serves", server.text("err")[-2000:])
    if not up:
        return
    health_cmd = image["healthcheck"]
    health_cmd[0] = shutil.which(health_cmd[0], path="/usr/bin") or health_cmd[0]
    health = server.run(health_cmd)
    check(health.returncode == 0, "the image's HEALTHCHECK passes through 0.0.0.0",
          health.stderr.decode(errors="replace"))
    check(os.path.exists(os.path.join(data, "passgate.db")), "the database is in the /data volume")
    password = server.admin_password()
    if check(password is not None, "the image prints the first admin password (docker logs)"):
        sign_in_and_change(Http(Target(port)), password, "image")
    status = server.stop()
    check(status == 0, "SIGTERM (the image's STOPSIGNAL) stops it cleanly", f"status {status}")
    health = server.run(health_cmd)
    check(health.returncode == 1, "the HEALTHCHECK fails once it is stopped")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--unit", required=True)
    parser.add_argument("--env-file", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    # Under /tmp: every directory above must be open to the unprivileged users.
    scratch = tempfile.mkdtemp(prefix="passgate-deb-")
    os.chmod(scratch, 0o755)
    try:
        unit_phase(args, scratch)
        image_phase(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    exit_with_results("deb")


if __name__ == "__main__":
    main()
