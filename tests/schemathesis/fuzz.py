#!/usr/bin/env python3
"""Runs schemathesis against /api/v2/openapi.json of a release passgate, three times: as the
superuser, as a USER_CONFIG manager and as a flagged user (require_password_change set).
Each run gets its own server on a fresh SQLite file and a free loopback port, so that what
one role's run does (deleting users, renaming them, ending tokens) cannot spoil another's.

Every server holds the same fixture: admin (superuser), super2 (superuser), mgr (USER_CONFIG,
quantity -1), managed1 and managed2 (managed by mgr), flagged (managed by mgr, temporary
password, must change), other1 (nobody's), and an API key of admin and of mgr, so that the
fuzzer's small ids hit real users and keys.

Checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance, response_schema_conformance, unsupported_method (a method the
document does not list answers 405) and ignored_auth (an operation that needs credentials
refuses a request without them).

What is excluded, and why:
  * `POST /auth/login` (operation `login`) from the three authenticated runs: it needs no
    credentials, and fuzzing it with the fixture's usernames (schemathesis learns them from
    `GET /users` answers) locks those usernames in the login throttle for 15 minutes (5
    failures), after which the role itself can no longer sign in. It gets a fourth,
    anonymous run of its own (`login`, `openapi` and the public API index `api_index`, no
    credentials at all).
  * Nothing else. A run that ends its own credentials (`invalidate_tokens`, the flagged
    user's completed forced change, a superuser renaming itself) signs in again through
    hooks.py, and schemathesis replays the request with the fresh token.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import (  # noqa: E402
    Http, Server, bootstrap_admin, create_user, expect, install_signal_exit, log, new_password,
)

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "ignored_auth",
])
ROLES = ("superuser", "manager", "flagged", "anonymous")


def fixture(server):
    state = {}
    admin_password = new_password("a")
    admin_token = bootstrap_admin(server, admin_password)
    h = Http(server)
    state.update(admin_id=1, admin_password=admin_password, admin_token=admin_token)
    create_user(h, admin_token, "super2", new_password("s"), superuser=True)
    mgr_password = new_password("m")
    mgr_id = create_user(h, admin_token, "mgr", mgr_password,
                         permissions=[{"name": "USER_CONFIG", "quantity": -1, "enabled": True}])
    mgr_token = expect(h.login("mgr", mgr_password), 200, "mgr login").data["token"]
    for name in ("managed1", "managed2"):
        create_user(h, mgr_token, name, new_password("u"))
    flagged_id = create_user(h, mgr_token, "flagged", new_password("f"))
    create_user(h, admin_token, "other1", new_password("o"))
    expect(h.api("POST", f"/users/{flagged_id}/reset-password",
                 {"password": new_password("t"), "require_password_change": True}, token=admin_token),
           200, "flag the flagged user")
    for owner, token in ((1, admin_token), (mgr_id, mgr_token)):
        expect(h.api("POST", f"/users/{owner}/key", {"name": "fixture", "full_access": owner == 1},
                     token=token), 201, "fixture key")
    h.close()
    state.update(manager_id=mgr_id, manager_password=mgr_password, flagged_id=flagged_id,
                 superuser_id=1, superuser_password=admin_password)
    return state


def run_role(args, role, st_bin):
    work = os.path.join(args.workdir, role)
    os.makedirs(work, exist_ok=True)
    server = Server(args.binary, work, os.path.join(work, "fuzz.db"), name="server")
    pid_file = os.path.join(args.workdir, "server.pids")
    server.pid_file = pid_file
    try:
        server.start()
        state = fixture(server)
        counts_path = os.path.join(work, "counts.json")
        state.update(role=role, port=server.port, db_path=server.db_path, counts_path=counts_path)
        state_path = os.path.join(work, "state.json")
        json.dump(state, open(state_path, "w"))
        base = f"http://127.0.0.1:{server.port}"
        cmd = [
            st_bin, "run", f"{base}/api/v2/openapi.json",
            "--url", base,
            "--checks", args.checks,
            "--mode", args.mode,
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", "1",
            "--request-timeout", "15",
            "--suppress-health-check", "all",
            "--report", "junit",
            "--report-dir", os.path.join(work, "report"),
            "--output-sanitize", "false",
        ]
        if role == "anonymous":
            cmd += ["--include-operation-id-regex", "^(login|openapi|api_index)$"]
            env = dict(os.environ, NO_COLOR="1", COLUMNS="160")
        else:
            cmd += ["--exclude-operation-id", "login"]
            env = dict(os.environ, SCHEMATHESIS_HOOKS=os.path.join(HERE, "hooks.py"),
                       PASSGATE_ST_STATE=state_path, NO_COLOR="1", COLUMNS="160")
        log(f"[{role}] {' '.join(cmd[2:])}")
        out_path = os.path.join(work, "schemathesis.txt")
        t0 = time.time()
        with open(out_path, "wb") as out:
            p = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=args.timeout, cwd=work)
        took = time.time() - t0
        text = open(out_path, encoding="utf-8", errors="replace").read()
        try:
            fetches = json.load(open(counts_path)).get("token_fetches", 0)
        except (OSError, ValueError):
            fetches = 0
        log(f"[{role}] schemathesis exit {p.returncode} after {took:.0f} s; {fetches} token fetch(es) "
            f"(one at the start, one more after each request that ended the role's credentials)")
        print(text if p.returncode != 0 or args.verbose else "\n".join(text.splitlines()[-25:]), flush=True)
        server_errors = [line for line in open(server.log_path, errors="replace")
                         if " ERROR " in line or "panicked" in line]
        if server_errors:
            log(f"[{role}] server log errors ({len(server_errors)}):")
            for line in server_errors[:20]:
                print("   ", line.rstrip())
        return p.returncode == 0 and not any("panicked" in l for l in server_errors)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--st", required=True, help="the schemathesis `st` executable")
    ap.add_argument("--max-examples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20260216)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per role")
    ap.add_argument("--roles", default=",".join(ROLES))
    ap.add_argument("--checks", default=CHECKS, help="schemathesis checks (default: %(default)s)")
    ap.add_argument("--mode", default="all", choices=["all", "positive", "negative"])
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    install_signal_exit()
    results = {}
    for role in args.roles.split(","):
        try:
            results[role] = run_role(args, role, args.st)
        except subprocess.TimeoutExpired:
            log(f"[{role}] schemathesis did not finish within {args.timeout} s")
            results[role] = False
    passed = sum(1 for ok in results.values() if ok)
    failed = len(results) - passed
    for role, ok in results.items():
        print(f"  {role}: {'ok' if ok else 'FAILED'}")
    print(f"schemathesis: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
