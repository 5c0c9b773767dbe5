"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): the bearer token of the role
under test, fetched again whenever a request answers 401.

A run can end its own credentials: `POST /auth/invalidate_tokens` rotates the caller's stamp,
and the flagged user's one permitted `PATCH /users/@me {"password": …}` completes the forced
change. Instead of excluding those operations, the provider signs in again (and, for the
flagged role, first has the superuser set a new temporary password with
`require_password_change: true`, so that the role stays flagged), and schemathesis replays
the request once with the fresh token (its reactive re-authentication on 401).

Configuration comes from the JSON file named by PASSGATE_ST_STATE (written by fuzz.py).
Sign-ins of this provider come from 127.0.0.2, apart from the fuzzer's own requests (from
127.0.0.1) whose failed logins may lock that address in the throttle.
"""

import json
import os
import sqlite3
import sys
import threading

import schemathesis

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import Http, new_password  # noqa: E402


class _Server:
    def __init__(self, port):
        self.port = port


_STATE = json.load(open(os.environ["PASSGATE_ST_STATE"]))
_LOCK = threading.Lock()
_COUNTS_PATH = _STATE["counts_path"]


def _bump(key):
    try:
        counts = json.load(open(_COUNTS_PATH))
    except (OSError, ValueError):
        counts = {}
    counts[key] = counts.get(key, 0) + 1
    json.dump(counts, open(_COUNTS_PATH, "w"))


def _username(user_id):
    """The role's current name (a superuser run may rename users, itself included)."""
    db = sqlite3.connect(f"file:{_STATE['db_path']}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute("SELECT username FROM users WHERE user_id = ?", (user_id,)).fetchone()
    finally:
        db.close()
    if row is None:
        raise RuntimeError(f"user {user_id} no longer exists")
    return row[0]


def _login(http, user_id, password):
    name = _username(user_id)
    r = http.login(name, password)
    if r.status != 200:
        raise RuntimeError(f"sign-in of {name} for the fuzz run failed: {r.status} {r.body[:300]!r}")
    return r.data


@schemathesis.auth(refresh_interval=3600)
class PassgateRole:
    def get(self, case, ctx):
        with _LOCK:
            role = _STATE["role"]
            http = Http(_Server(_STATE["port"]), source_ip="127.0.0.2")
            try:
                if role == "flagged":
                    # Flag it again (a previous request may have completed the change).
                    temp = new_password("t")
                    r = http.api("POST", f"/users/{_STATE['flagged_id']}/reset-password",
                                 {"password": temp, "require_password_change": True},
                                 token=_STATE["admin_token"])
                    if r.status != 200:
                        raise RuntimeError(f"re-flagging failed: {r.status} {r.body[:300]!r}")
                    data = _login(http, _STATE["flagged_id"], temp)
                    if not data["require_password_change"]:
                        raise RuntimeError("the flagged user signed in without the flag")
                else:
                    data = _login(http, _STATE[f"{role}_id"], _STATE[f"{role}_password"])
            finally:
                http.close()
            _bump("token_fetches")
            return data["token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
