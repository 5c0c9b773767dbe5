"""Checks on a running container of the passgate image (started by tests/container/run.sh).

Python 3 standard library only (harness.Http for the API); podman for what happens inside.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import BOOT_MARKER, Http, check, exit_with_results, log, new_password  # noqa: E402

def podman(*args, timeout=60):
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)


class Target:
    def __init__(self, port):
        self.port = port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--container", required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    c = args.container

    image = json.loads(podman("image", "inspect", "localhost/passgate:test").stdout)[0]
    config = image["Config"]
    check(config.get("User", "") not in ("", "root", "0", "0:0"), "the image's user is not root",
          config.get("User"))
    check("/data" in (config.get("Volumes") or {}), "the image declares the /data volume")
    # podman shows a Docker-format image's HEALTHCHECK beside its Config, not in it.
    healthcheck = image.get("Healthcheck") or config.get("Healthcheck") or {}
    check(healthcheck.get("Test") == ["CMD", "passgate", "healthcheck"],
          "the image's HEALTHCHECK is passgate healthcheck", str(healthcheck))

    # The HEALTHCHECK, as the runtime runs it, until the server is up.
    deadline = time.monotonic() + 60
    healthy = False
    while time.monotonic() < deadline and not healthy:
        healthy = podman("healthcheck", "run", c).returncode == 0
        if not healthy:
            time.sleep(0.5)
    check(healthy, "the HEALTHCHECK passes", podman("logs", c).stderr[-2000:])

    uid = podman("exec", c, "id", "-u").stdout.strip()
    check(uid == "10001", "passgate runs as uid 10001, not root", uid)
    listing = podman("exec", c, "ls", "-ln", "/data").stdout
    check("passgate.db" in listing and " 10001 " in listing, "the database is in /data, the user's own",
          listing)
    logs = podman("logs", c)
    lines = (logs.stdout + logs.stderr).splitlines()
    password = None
    for i, line in enumerate(lines):
        if BOOT_MARKER in line:
            password = next((l.strip() for l in lines[i + 1:i + 6] if l.startswith("    ") and l.strip()), None)
    if check(password is not None, "docker logs shows the first admin password"):
        http = Http(Target(args.port))
        first = http.login("admin", password)
        check(first.status == 200 and first.data.get("require_password_change") is True,
              "it signs in through the published port, a change is required", repr(first))
        new = new_password("ctr")
        changed = http.api("PATCH", "/users/@me", {"password": new}, token=first.data.get("token"))
        check(changed.status == 200, "the forced change is accepted", repr(changed))
        check(http.login("admin", new).status == 200, "the new password signs in")

    stopped = podman("stop", "-t", "20", c, timeout=60)
    code = podman("inspect", "--format", "{{.State.ExitCode}}", c).stdout.strip()
    check(stopped.returncode == 0 and code == "0", "SIGTERM stops it cleanly (exit status 0)",
          f"{stopped.stderr} exit {code}")
    exit_with_results("container")


if __name__ == "__main__":
    main()
