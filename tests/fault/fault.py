#!/usr/bin/env python3
"""Fault injection against a release passgate on SQLite (Python 3 standard library only).

Phase 1, crashes: admin threads reset users' passwords through the API while user threads
sign in (API and web form) and change their own passwords (forced and voluntary), and a race
thread runs a reset at the same moment as a change or a sign-in of the same user. The server
is killed with SIGKILL at random moments and started again on the same database file. Every
operation is recorded client-side with its start, end and outcome: `ok` (200), `failed`
(refused before it was sent, or a 4xx answer), `unknown` (in flight when the server died).
Afterwards, for every user:
  * the password that works (found by signing in through the API) belongs to an operation
    that was acknowledged or in flight and that no acknowledged operation started after it
    ended; `require_password_change` and `password_expires` in the database are exactly that
    operation's, and the login answer's flag agrees;
  * between any two database snapshots (taken while the server is dead after each kill, and
    at the end) the hash and the security stamp change together, and the flags never change
    without the hash;
  * login tokens obtained before that operation are refused, tokens obtained after it work;
  * every row in `sessions` holds the user's current stamp (a login after the last change)
    and web sessions opened before the last change are refused and gone;
  * the audit log holds one `password_reset` / `password_changed` entry (forced=true/false)
    for every acknowledged operation, none for failed ones, and one for the operation whose
    password is in effect; no password appears in the audit log or the server log;
  * `PRAGMA integrity_check` is `ok` after every crash;
  * right after each kill, every operation that was in flight (and not part of a race)
    either committed whole (new hash, its own flags and expiry, a new stamp) or left the
    row exactly as it was: the row is read just before each operation is sent (nobody else
    writes that user meanwhile), and again from the dead server's file. Every other kill
    is aimed at the end of an operation in flight, near its transaction;
  * a web sign-in that raced an acknowledged reset of the same user left no row in
    `sessions` with the stamp from before the reset (checked once both have answered).

Phase 2, 64 concurrent writers: 64 threads start at once (PATCH @me email changes, admin
resets and PATCHes of other users, logins, user creation) while a second process (the CLI's
`user reset-password`) writes the same file; once with the default pool (1 connection),
once with 8 connections. Zero 5xx answers, every write answered 200/201, the last email of
every writer is in the database.

Exit status 0 when nothing was violated, 1 otherwise.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    Counter, Http, Refused, Server, bootstrap_admin, clean_env, create_user, expect,
    install_signal_exit, log, new_password,
)

RESET = "reset"
FORCED = "forced"
VOLUNTARY = "voluntary"
CREATE = "create"
CHANGE_KINDS = (FORCED, VOLUNTARY)


class Op:
    """One credential-changing operation as the client saw it."""

    def __init__(self, kind, user, password, rpc, expires_hours, race=False):
        self.kind = kind
        self.user = user
        self.password = password
        self.rpc = rpc
        self.expires_hours = expires_hours
        self.race = race
        self.t_start = time.time()
        self.t_end = None
        self.outcome = "pending"
        self.status = None
        self.epoch = None
        self.before = None

    def took_effect(self):
        return self.outcome in ("ok", "applied")

    def describe(self):
        return (f"{self.kind} of {self.user.name} rpc={self.rpc} expires_hours={self.expires_hours} "
                f"outcome={self.outcome} status={self.status} epoch={self.epoch} "
                f"t=[{self.t_start:.3f},{(self.t_end or 0):.3f}]{' race' if self.race else ''}")


class User:
    def __init__(self, name, uid, password, created_at):
        self.name = name
        self.id = uid
        self.lock = threading.Lock()
        create = Op(CREATE, self, password, False, -1)
        create.t_start = create.t_end = created_at
        create.outcome = "ok"
        create.status = 201
        create.epoch = 0
        self.ops = [create]
        # (request start, answer time, token)
        self.tokens = []
        # (request start, answer time, session cookie)
        self.sessions = []
        self.failed_logins = []
        self.locked = False

    def candidates(self):
        """Operations whose state may be the current one: those that took effect first
        (newest first), then those whose outcome is unknown (newest first). An operation
        in flight when the server was killed had most likely not committed yet (most of a
        request is spent hashing), so this order keeps failed sign-ins, which count
        against the username in the throttle, to about one per crash."""
        live = [o for o in self.ops if o.outcome in ("ok", "applied", "unknown")]
        effective = [o for o in live if o.took_effect()]

        def superseded(o):
            return any(a is not o and a.t_start > o.t_end for a in effective)

        alive = [o for o in live if not superseded(o)]
        return (sorted((o for o in alive if o.took_effect()), key=lambda o: o.t_start, reverse=True)
                + sorted((o for o in alive if not o.took_effect()), key=lambda o: o.t_start, reverse=True))

    def settle(self, matched, epoch):
        """`matched`'s password works now: if its outcome was unknown it took effect, and an
        operation of an earlier server life that started after it ended did not."""
        if matched.outcome == "unknown":
            matched.outcome = "applied"
        for other in self.ops:
            if other.outcome == "unknown" and other is not matched and other.epoch < epoch \
                    and other.t_start > matched.t_end:
                other.outcome = "lost"


class Run:
    def __init__(self, server, args):
        self.server = server
        self.args = args
        self.epoch = 0
        self.up = threading.Event()
        self.stop = threading.Event()
        self.violations = []
        self.vlock = threading.Lock()
        self.counts = Counter()
        self.admin_token = None
        self.admin_password = None
        self.users = []
        self.snapshots = []  # (time, label, {user_id: (hash, rpc, expires, stamp)})
        self.rng = random.Random(args.seed)
        self.rng_lock = threading.Lock()

    def violation(self, text):
        with self.vlock:
            self.violations.append(text)
        log("VIOLATION:", text)

    def rand(self):
        with self.rng_lock:
            return random.Random(self.rng.random())

    def source_ip(self, user, salt=0):
        """A loopback source address per user and server life, so that the throttle's
        per-address counter of one user's sign-ins never reaches its limit."""
        return f"127.{10 + (self.epoch * 3 + salt) % 240}.{user.id // 250}.{user.id % 250 + 1}"


# ---------------------------------------------------------------------------------------
# Operations


def perform(run, op, fn, allowed=(200,)):
    """Runs `fn` (-> Response) for `op` and settles its outcome."""
    op.epoch = run.epoch
    if not op.race:
        # The user's row just before: nobody else writes it while this thread holds the
        # user's lock, so after a crash the row tells whether this operation committed.
        op.before = read_row(run, op.user)
    op.t_start = time.time()
    op.user.ops.append(op)
    try:
        r = fn()
    except Refused:
        op.t_end = time.time()
        op.outcome = "failed"
        op.status = "refused"
        run.counts.add(f"{op.kind}:refused")
        return None
    except Exception as e:  # the connection broke: the server died while it was in flight
        op.t_end = time.time()
        op.outcome = "unknown"
        op.status = type(e).__name__
        run.counts.add(f"{op.kind}:in-flight-at-kill")
        return None
    op.t_end = time.time()
    op.status = r.status
    run.counts.add(f"{op.kind}:{r.status}")
    if r.status == 200:
        op.outcome = "ok"
    elif r.status >= 500:
        op.outcome = "unknown"
        run.violation(f"{op.describe()}: server error {r!r}")
    else:
        op.outcome = "failed"
        if r.status not in allowed:
            run.violation(f"{op.describe()}: unexpected answer {r!r}")
    return r


def do_reset(run, user, rng, race=False, client=None):
    password = new_password("r")
    rpc = rng.random() < 0.8
    hours = rng.choice([-1, -1, 24, 720])
    op = Op(RESET, user, password, rpc, hours, race)
    h = client or Http(run.server)
    body = {"password": password, "require_password_change": rpc, "expires_hours": hours}
    allowed = (200, 401) if race else (200,)
    r = perform(run, op, lambda: h.api("POST", f"/users/{user.id}/reset-password", body,
                                         token=run.admin_token), allowed)
    if r is not None and r.status == 200:
        d = r.data
        if d.get("require_password_change") != rpc or "password" in d:
            run.violation(f"{op.describe()}: answer does not match the request: {r!r}")
    if client is None:
        h.close()
    return op


def sign_in(run, user, h):
    """Finds the password in effect by signing in through the API. Returns (op, token, flag)
    or None when the server went away. Resolves in-flight operations of earlier server
    lives: the one whose password works took effect, newer ones did not."""
    for op in user.candidates():
        t0 = time.time()
        r = h.login(user.name, op.password)
        run.counts.add(f"login:{r.status}")
        if r.status == 200:
            token = r.data["token"]
            user.tokens.append((t0, time.time(), token))
            user.settle(op, run.epoch)
            return op, token, r.data["require_password_change"]
        if r.status == 401 and r.code == "INCORRECT_CREDENTIALS":
            user.failed_logins.append((t0, op.kind, op.outcome))
            continue
        if r.status == 429:
            # The harness's own failed guesses locked the username: say so once and leave
            # this user alone (a limitation of this script, not a finding).
            if not user.locked:
                user.locked = True
                run.violation(f"harness: {user.name} was locked by the login throttle after the "
                              f"script's failed sign-ins {user.failed_logins[-6:]}")
            return None
        if r.status >= 500:
            run.violation(f"login of {user.name}: server error {r!r}")
        else:
            run.violation(f"login of {user.name}: unexpected answer {r!r}")
        return None
    run.violation(f"{user.name}: no password of an acknowledged or in-flight operation works; "
                  f"ops: {[o.describe() for o in user.ops[-6:]]}")
    return None


def change_own(run, user, token, current, flagged, rng, race=False, client=None):
    password = new_password("c")
    kind = FORCED if flagged else VOLUNTARY
    body = {"password": password}
    if not flagged:
        body["current_password"] = current.password
    op = Op(kind, user, password, False, -1, race)
    h = client or Http(run.server, run.source_ip(user))
    allowed = (200, 401) if race else (200,)
    r = perform(run, op, lambda: h.api("PATCH", "/users/@me", body, token=token), allowed)
    if r is not None and r.status == 200:
        d = r.data
        user.tokens.append((op.t_end, op.t_end, d["token"]))
        if d.get("require_password_change") or d.get("password_expires") is not None:
            run.violation(f"{op.describe()}: flags not cleared in the answer: {r!r}")
    if client is None:
        h.close()
    return op


def web_sign_in(run, user, password, allowed=(303,), follow=True, out=None):
    h = Http(run.server, run.source_ip(user, salt=1))
    t0 = time.time()
    try:
        r = h.web_login(user.name, password)
    except Refused:
        return None
    except Exception:
        return None
    run.counts.add(f"web-login:{r.status}")
    if r.status >= 500:
        run.violation(f"web login of {user.name}: server error {r!r}")
    elif r.status not in allowed:
        run.violation(f"web login of {user.name}: unexpected answer {r.status} {r.body[:200]!r}")
    if r.status == 303 and "passgate_session" in h.cookies:
        user.sessions.append((t0, time.time(), h.cookies["passgate_session"]))
        if out is not None:
            out.update(cookie=h.cookies["passgate_session"], t0=t0, t1=time.time(),
                       location=r.header("location"))
    if r.status == 303 and "passgate_session" in h.cookies and follow:
        try:
            page = h.request("GET", r.header("location"))
            run.counts.add(f"web-page:{page.status}")
            if page.status >= 500:
                run.violation(f"page after web login of {user.name}: server error {page!r}")
        except Exception:
            pass
    h.close()
    return r


def stored_id(cookie):
    """How `sessions` keys a session: the SHA-256 (hex) of its cookie, never the cookie."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def check_raced_session(run, user, web, reset_op):
    """A web sign-in that raced an acknowledged reset: once both have answered, the session
    it created is either gone or holds the user's current stamp, and it is refused unless it
    holds the current stamp."""
    db = open_db(run.server.db_path)
    try:
        row = db.execute("SELECT data FROM sessions WHERE id = ?", (stored_id(web["cookie"]),)).fetchone()
        stamp = db.execute("SELECT security_stamp FROM users WHERE user_id = ?", (user.id,)).fetchone()[0]
    finally:
        db.close()
    h = Http(run.server)
    h.cookies["passgate_session"] = web["cookie"]
    page = h.request("GET", "/panel/dashboard")
    h.close()
    if row is None:
        run.counts.add("race-web:session-gone")
        return
    held = json.loads(row["data"]).get("stamp")
    if held == stamp:
        run.counts.add("race-web:session-current")
        if page.status not in (200, 303):
            run.violation(f"{user.name}: a current session answers {page!r}")
        return
    run.counts.add("race-web:session-stale")
    overlap = (f"web sign-in [{web['t0']:.3f},{web['t1']:.3f}] answered 303 -> {web['location']}, "
               f"reset [{reset_op.t_start:.3f},{reset_op.t_end:.3f}] answered 200")
    run.violation(f"{user.name}: a web sign-in that raced an acknowledged reset left a row in "
                  f"sessions with the stamp from before the reset, after both had answered ({overlap}); "
                  f"the session then answers {page.status} {page.header('location')}")
    if page.status == 200:
        run.violation(f"{user.name}: a session from before a reset still opens the panel")


# ---------------------------------------------------------------------------------------
# Worker threads


def guarded(run, name, body):
    def loop():
        rng = run.rand()
        while not run.stop.is_set():
            if not run.up.wait(timeout=0.5):
                continue
            try:
                body(rng)
            except Refused:
                run.up.wait(timeout=2)
            except (OSError, ConnectionError, EOFError) as e:  # server died mid-request
                run.counts.add(f"{name}:connection-lost:{type(e).__name__}")
                time.sleep(0.05)
            except Exception as e:  # a bug in this script or an unexpected answer
                run.violation(f"{name}: {type(e).__name__}: {e}")
                time.sleep(0.2)
    t = threading.Thread(target=loop, name=name, daemon=True)
    t.start()
    return t


def pick_locked(run, rng):
    for _ in range(20):
        user = rng.choice(run.users)
        if user.locked:
            continue
        if user.lock.acquire(blocking=False):
            return user
    time.sleep(0.01)
    return None


def admin_worker(run):
    def body(rng):
        user = pick_locked(run, rng)
        if user is None:
            return
        try:
            do_reset(run, user, rng)
        finally:
            user.lock.release()
        time.sleep(rng.uniform(0.0, 0.08))
    return body


def user_worker(run):
    def body(rng):
        user = pick_locked(run, rng)
        if user is None:
            return
        try:
            h = Http(run.server, run.source_ip(user))
            found = sign_in(run, user, h)
            if found is None:
                return
            current, token, flagged = found
            roll = rng.random()
            if flagged or roll < 0.45:
                change_own(run, user, token, current, flagged, rng, client=h)
            elif roll < 0.75:
                web_sign_in(run, user, current.password)
            else:
                r = h.api("GET", "/users/@me", token=token)
                run.counts.add(f"read-me:{r.status}")
                if r.status != 200:
                    run.violation(f"GET @me of {user.name}: {r!r}")
            h.close()
        finally:
            user.lock.release()
    return body


def race_worker(run):
    """A reset at the same moment as the user's own change, or sign-in, or another reset."""
    def body(rng):
        time.sleep(rng.uniform(0.1, 0.4))
        user = pick_locked(run, rng)
        if user is None:
            return
        try:
            h = Http(run.server, run.source_ip(user))
            found = sign_in(run, user, h)
            if found is None:
                return
            current, token, flagged = found
            kind = rng.choice(["change", "web", "reset"])
            web_result = {}
            barrier = threading.Barrier(2, timeout=10)
            admin_client = Http(run.server)
            admin_client.request("GET", "/healthz")  # connect before the barrier
            user_client = Http(run.server, run.source_ip(user, salt=2))
            user_client.request("GET", "/healthz")

            def second():
                try:
                    barrier.wait()
                    if kind == "change":
                        change_own(run, user, token, current, flagged, rng, race=True, client=user_client)
                    elif kind == "web":
                        web_sign_in(run, user, current.password, allowed=(303, 401), follow=False,
                                    out=web_result)
                    else:
                        do_reset(run, user, rng, race=True, client=user_client)
                except threading.BrokenBarrierError:
                    pass
                except Exception as e:
                    run.counts.add(f"race:lost:{type(e).__name__}")

            t = threading.Thread(target=second, daemon=True)
            t.start()
            try:
                barrier.wait()
                reset_op = do_reset(run, user, rng, race=True, client=admin_client)
            finally:
                t.join(timeout=40)
            if kind == "web" and web_result.get("cookie") and reset_op.outcome == "ok":
                check_raced_session(run, user, web_result, reset_op)
            admin_client.close()
            user_client.close()
            h.close()
            run.counts.add(f"race:{kind}")
        finally:
            user.lock.release()
    return body


# ---------------------------------------------------------------------------------------
# Database snapshots and checks


def parse_ts(value):
    if value is None:
        return None
    text = str(value).replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            pass
    raise ValueError(f"unknown timestamp {value!r}")


def open_db(path):
    db = sqlite3.connect(path, timeout=30)
    db.row_factory = sqlite3.Row
    return db


def snapshot(run, label):
    db = open_db(run.server.db_path)
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            run.violation(f"{label}: PRAGMA integrity_check: {check}")
        rows = db.execute(
            "SELECT user_id, password, require_password_change, password_expires, security_stamp FROM users"
        ).fetchall()
        state = {r["user_id"]: (r["password"], bool(r["require_password_change"]),
                                r["password_expires"], r["security_stamp"]) for r in rows}
    finally:
        db.close()
    run.snapshots.append((time.time(), label, state))
    return state


def read_row(run, user):
    db = sqlite3.connect(run.server.db_path, timeout=30)
    try:
        row = db.execute("SELECT password, require_password_change, password_expires, security_stamp "
                         "FROM users WHERE user_id = ?", (user.id,)).fetchone()
    finally:
        db.close()
    return (row[0], bool(row[1]), row[2], row[3])


def flags_match(op, rpc, expires):
    want_rpc, want_hours = expected_flags(op)
    if rpc != want_rpc:
        return False
    if want_hours == -1:
        return expires is None
    if expires is None:
        return False
    at = parse_ts(expires)
    return op.t_start + want_hours * 3600 - 2 <= at <= (op.t_end or time.time()) + want_hours * 3600 + 2


def resolve_in_flight(run, state, label):
    """After a kill: each operation that was in flight (and not part of a race) either
    committed whole (new hash, its flags and expiry, a new stamp) or not at all (the row
    exactly as before it)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        if not any(o.outcome == "pending" and o.epoch == run.epoch for u in run.users for o in list(u.ops)):
            break
        time.sleep(0.02)
    for user in run.users:
        for op in list(user.ops):
            if op.epoch != run.epoch or op.outcome != "unknown" or op.before is None:
                continue
            now = state.get(user.id)
            before = op.before
            if now is None:
                continue
            if now[0] != before[0]:
                op.outcome = "applied"
                run.counts.add("in-flight-at-kill:committed")
                if now[3] == before[3]:
                    run.violation(f"{user.name}: {op.describe()} committed at '{label}' without a new stamp")
                if not flags_match(op, now[1], now[2]):
                    run.violation(f"{user.name}: {op.describe()} committed at '{label}' with flags "
                                  f"({now[1]}, {now[2]}) that are not its own: half of an operation")
            else:
                op.outcome = "lost"
                run.counts.add("in-flight-at-kill:rolled-back")
                if now != before:
                    run.violation(f"{user.name}: {op.describe()} did not commit at '{label}', yet the row "
                                  f"changed: {before[1:3]} -> {now[1:3]}, stamp changed: {before[3] != now[3]}")


def aim_at_commit(run, rng):
    """Every other kill is aimed at the end of an operation in flight, where it commits:
    most of a request is spent hashing, so a kill at a uniformly random moment almost never
    falls between the commit and the answer. Waits (at most about a second) until 75-105%
    of the typical duration of that kind of operation has passed since it started."""
    pending = [o for u in run.users for o in list(u.ops) if o.outcome == "pending" and o.epoch == run.epoch]
    if not pending:
        return
    op = rng.choice(pending)
    done = sorted(o.t_end - o.t_start for u in run.users for o in list(u.ops)
                  if o.kind == op.kind and o.outcome == "ok")
    if len(done) < 5:
        return
    typical = done[len(done) // 2]
    wait = op.t_start + rng.uniform(0.75, 1.05) * typical - time.time()
    if 0 < wait < 1.5:
        time.sleep(wait)
    run.counts.add("kills-aimed")


def check_snapshots(run):
    ids = {u.id: u for u in run.users}
    for (t1, l1, s1), (t2, l2, s2) in zip(run.snapshots, run.snapshots[1:]):
        for uid, user in ids.items():
            if uid not in s1 or uid not in s2:
                continue
            h1, f1, e1, st1 = s1[uid]
            h2, f2, e2, st2 = s2[uid]
            if (h1 != h2) != (st1 != st2):
                run.violation(f"{user.name}: between '{l1}' and '{l2}' the "
                              f"{'hash' if h1 != h2 else 'stamp'} changed without the "
                              f"{'stamp' if h1 != h2 else 'hash'}")
            if h1 == h2 and (f1, e1) != (f2, e2):
                run.violation(f"{user.name}: between '{l1}' and '{l2}' the flags changed "
                              f"({f1},{e1}) -> ({f2},{e2}) without the hash")


def expected_flags(op):
    if op.kind == RESET:
        return op.rpc, op.expires_hours
    return False, -1


def verify_users(run):
    """The checks on the final state (server running, workload stopped)."""
    db = open_db(run.server.db_path)
    final = run.snapshots[-1][2]
    audit = db.execute(
        "SELECT target_id, action, detail, created, actor_id FROM audit_log "
        "WHERE action IN ('password_reset','password_changed')"
    ).fetchall()
    sessions = db.execute("SELECT id, user_id, data FROM sessions WHERE user_id IS NOT NULL").fetchall()
    session_ids = {r["id"] for r in sessions}
    db.close()
    checked_tokens = 0
    checked_sessions = 0

    for user in run.users:
        if user.locked:
            continue  # reported already; its password can no longer be probed
        h = Http(run.server, f"127.250.{user.id // 250}.{user.id % 250 + 1}")
        pw_hash, rpc, expires, stamp = final[user.id]
        cands = user.candidates()
        matched = None
        login_flag = None
        for op in cands:
            r = h.login(user.name, op.password)
            if r.status == 200:
                matched, login_flag = op, r.data["require_password_change"]
                user.tokens.append((time.time(), time.time(), r.data["token"]))
                break
            if not (r.status == 401 and r.code == "INCORRECT_CREDENTIALS"):
                run.violation(f"final login of {user.name}: unexpected {r!r}")
                break
        if matched is None:
            run.violation(f"{user.name}: final password is from no acknowledged or in-flight "
                          f"operation; candidates: {[o.describe() for o in cands]}")
            h.close()
            continue
        user.settle(matched, run.epoch + 1)
        # The passwords of the operations before it no longer work (a few, to stay under
        # the username throttle: a success has just reset it).
        older = [o for o in user.ops if o.took_effect() and o.t_end < matched.t_start][-2:]
        for o in older:
            r = h.login(user.name, o.password)
            if r.status != 401:
                run.violation(f"{user.name}: the password of a superseded {o.describe()} still "
                              f"answers {r.status}")
        # Flags and expiry are the matched operation's.
        want_rpc, want_hours = expected_flags(matched)
        if rpc != want_rpc or login_flag != want_rpc:
            run.violation(f"{user.name}: require_password_change db={rpc} login={login_flag}, "
                          f"but the operation in effect is {matched.describe()}")
        if want_hours == -1:
            if expires is not None:
                run.violation(f"{user.name}: password_expires={expires} but {matched.describe()}")
        else:
            at = parse_ts(expires) if expires is not None else None
            lo = matched.t_start + want_hours * 3600 - 2
            hi = matched.t_end + want_hours * 3600 + 2
            if at is None or not (lo <= at <= hi):
                run.violation(f"{user.name}: password_expires={expires} is not {want_hours} h after "
                              f"{matched.describe()}")
        # The stamp changed with the last change: it differs from every snapshot taken
        # before the matched operation started whose hash differs.
        for t, label, state in run.snapshots[:-1]:
            if t < matched.t_start and user.id in state and state[user.id][0] != pw_hash \
                    and state[user.id][3] == stamp:
                run.violation(f"{user.name}: stamp equals the one at '{label}' though the hash changed")
        # Tokens from before the operation are refused; tokens from after it work.
        before = [tok for (t0, t1, tok) in user.tokens if t1 < matched.t_start][-6:]
        after = [tok for (t0, t1, tok) in user.tokens if t0 > matched.t_end]
        for tok in before:
            r = h.api("GET", "/users/@me", token=tok)
            checked_tokens += 1
            if r.status != 401:
                run.violation(f"{user.name}: a token from before {matched.describe()} answers {r!r}")
        for tok in after:
            r = h.api("GET", "/users/@me", token=tok)
            checked_tokens += 1
            ok = (r.status == 200) or (rpc and r.status == 403 and r.code == "PASSWORD_CHANGE_REQUIRED")
            if not ok:
                run.violation(f"{user.name}: a token from after {matched.describe()} answers {r!r}")
        # Sessions: every stored row carries the current stamp; web sessions from before the
        # last change are gone and refused.
        for row in sessions:
            if row["user_id"] != user.id:
                continue
            checked_sessions += 1
            try:
                data = json.loads(row["data"])
            except ValueError:
                data = {}
            if data.get("stamp") != stamp:
                run.violation(f"{user.name}: a row in sessions holds a stamp that is not the user's "
                              f"current one (a session from before the last credential change "
                              f"outlived it); operation in effect: {matched.describe()}")
        for (t0, t1, cookie) in user.sessions:
            if t1 < matched.t_start:
                checked_sessions += 1
                if stored_id(cookie) in session_ids:
                    row = next(r for r in sessions if r["id"] == stored_id(cookie))
                    if json.loads(row["data"]).get("stamp") == stamp:
                        run.violation(f"{user.name}: a session opened before {matched.describe()} "
                                      f"still holds the current stamp")
                web = Http(run.server)
                web.cookies["passgate_session"] = cookie
                r = web.request("GET", "/panel/dashboard")
                web.close()
                location = (r.header("location") or "").split("?")[0]
                if not (r.status == 303 and location == "/login"):
                    run.violation(f"{user.name}: a web session opened before {matched.describe()} "
                                  f"answers {r.status} {r.header('location')}")
        h.close()
        # The audit log: one entry per operation that took effect.
        mine = [a for a in audit if a["target_id"] == user.id]
        for kind, action, marker in ((RESET, "password_reset", None),
                                     (FORCED, "password_changed", "forced=true"),
                                     (VOLUNTARY, "password_changed", "forced=false")):
            ops = [o for o in user.ops if o.kind == kind]
            sure = sum(1 for o in ops if o.took_effect())
            maybe = sum(1 for o in ops if o.outcome == "unknown")
            entries = [a for a in mine if a["action"] == action and (marker is None or marker in a["detail"])]
            if not (sure <= len(entries) <= sure + maybe):
                run.violation(f"{user.name}: {len(entries)} audit entries {action} {marker or ''} for "
                              f"{sure} operations that took effect (+{maybe} unknown)")
        if matched.kind != CREATE:
            action = "password_reset" if matched.kind == RESET else "password_changed"
            near = [a for a in mine if a["action"] == action
                    and matched.t_start - 2 <= parse_ts(a["created"]) <= matched.t_end + 2]
            if not near:
                run.violation(f"{user.name}: no audit entry for the operation in effect {matched.describe()}")
            elif matched.kind == RESET and not any(
                    f"require_password_change={'true' if matched.rpc else 'false'}" in a["detail"] for a in near):
                run.violation(f"{user.name}: the audit entry of {matched.describe()} has other flags: "
                              f"{[a['detail'] for a in near]}")
    return checked_tokens, checked_sessions


def tamper(run):
    """--tamper: the kinds of damage the checks exist for, one per user u00..u03."""
    by_name = {u.name: u for u in run.users}
    db = sqlite3.connect(run.server.db_path, timeout=30)
    with db:
        # u00: flags that belong to no operation.
        db.execute("UPDATE users SET require_password_change = 1 - require_password_change, "
                   "password_expires = '2030-01-01 00:00:00.0' WHERE user_id = ?", (by_name["u00"].id,))
        # u01: a session row from before the last change.
        db.execute("INSERT INTO sessions (id, user_id, data, expiry_date) VALUES (?, ?, ?, ?)",
                   ("tampered-session", by_name["u01"].id,
                    json.dumps({"user_id": by_name["u01"].id, "stamp": "stale"}), "2099-01-01 00:00:00.0"))
        # u02: the audit entries of its credential operations are gone.
        db.execute("DELETE FROM audit_log WHERE target_id = ? AND action IN "
                   "('password_reset','password_changed')", (by_name["u02"].id,))
        # u03: the stamp of the first snapshot back, with the current hash.
        first = run.snapshots[0][2][by_name["u03"].id][3]
        db.execute("UPDATE users SET security_stamp = ? WHERE user_id = ?", (first, by_name["u03"].id))
    db.close()
    log("tampered with u00 (flags), u01 (stale session row), u02 (audit), u03 (stamp)")


def check_no_secrets(run):
    """No password set in this run appears in the audit log, the audit stream or the server
    log."""
    passwords = {o.password for u in run.users for o in u.ops if o.password}
    passwords.add(run.admin_password)
    db = open_db(run.server.db_path)
    text = "\n".join(" ".join(str(v) for v in tuple(r)) for r in db.execute("SELECT * FROM audit_log"))
    db.close()
    log_text = open(run.server.log_path, encoding="utf-8", errors="replace").read()
    if run.server.admin_initial_password:
        log_text = log_text.replace(run.server.admin_initial_password, "")  # printed once, by design
    for p in passwords:
        if p in text:
            run.violation("a password appears in the audit log")
            break
    for p in passwords:
        if p in log_text:
            run.violation("a password appears in the server log")
            break
    stream = read_audit_stream(run)
    for p in passwords:
        if p in stream:
            run.violation("a password appears in the audit stream")
            break


def read_audit_stream(run):
    try:
        return open(run.server.extra_env["PASSGATE_AUDIT_FILE"], encoding="utf-8", errors="replace").read()
    except OSError:
        return ""


def check_audit_stream(run, timeout=60.0):
    """Every entry of the audit log reaches the audit stream, SIGKILLs and restarts
    notwithstanding (the stream goes on after the file's last complete line). A SIGKILL in
    the middle of a write may leave a line cut short, on a line of its own (its entry is
    written again after it); anything else that is not JSON is a violation. Called with the
    server up."""
    db = open_db(run.server.db_path)
    ids = {r[0] for r in db.execute("SELECT audit_id FROM audit_log")}
    db.close()
    deadline = time.monotonic() + timeout
    while True:
        text = read_audit_stream(run)
        written = set()
        bad = cut = 0
        for line in text.split("\n")[:-1]:
            try:
                written.add(json.loads(line)["id"])
            except (ValueError, KeyError):
                if line.startswith('{"v":1,') and "\n" not in line:
                    cut += 1
                else:
                    bad += 1
        missing = ids - written
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if missing:
        run.violation(f"{len(missing)} audit entries never reached the audit stream, e.g. {sorted(missing)[:5]}")
    if bad:
        run.violation(f"{bad} lines of the audit stream are not JSON")
    log(f"audit stream: {len(written)} entries written, {len(ids)} in the database, "
        f"{cut} lines cut short by a kill")


# ---------------------------------------------------------------------------------------
# Phase 2: 64 concurrent writers


def writers_phase(run, writers, victims, cli_user, pool_label, rounds):
    """64 threads released at once; returns the tally."""
    tally = Counter()
    released = threading.Event()
    barrier = threading.Barrier(64, action=released.set, timeout=60)
    last_email = {}
    server = run.server
    errors = []

    def record(kind, r, ok=(200,)):
        tally.add(f"{kind}:{r.status}")
        if r.status >= 500:
            errors.append(f"{pool_label} {kind}: server error {r!r}")
        elif r.status not in ok:
            errors.append(f"{pool_label} {kind}: unexpected {r!r}")

    def email_writer(i):
        name, _uid, token = writers[i]
        h = Http(server, f"127.251.0.{i + 1}")
        barrier.wait()
        for k in range(rounds):
            email = f"{name}-{pool_label}-{k}@example.com"
            r = h.api("PATCH", "/users/@me", {"email": email}, token=token)
            record("patch-own-email", r)
            if r.status == 200:
                last_email[name] = email
        h.close()

    def resetter(i):
        name, uid = victims[i]
        h = Http(server)
        barrier.wait()
        for k in range(max(2, rounds // 2)):
            r = h.api("POST", f"/users/{uid}/reset-password", {"length": 12}, token=run.admin_token)
            record("admin-reset", r)
            r = h.api("PATCH", f"/users/{uid}", {"email": f"{name}-{pool_label}-{k}@example.com"},
                      token=run.admin_token)
            record("admin-patch-email", r)
        h.close()

    def login_writer(i):
        name, _uid, _token = writers[i]
        h = Http(server, f"127.252.0.{i + 1}")
        barrier.wait()
        for _ in range(max(2, rounds // 2)):
            r = h.login(name, WRITER_PASSWORD)
            record("login", r)
        h.close()

    def creator(i):
        h = Http(server)
        barrier.wait()
        for k in range(2):
            r = h.api("POST", "/users", {"username": f"n{pool_label}{i}x{k}", "password": WRITER_PASSWORD},
                      token=run.admin_token)
            record("create", r, ok=(201,))
        h.close()

    def cli_resets():
        env = dict(clean_env(), PASSGATE_DATABASE_URL=server.url, PASSGATE_LOG="warn")
        released.wait(timeout=60)
        for _ in range(3):
            p = subprocess.run([server.binary, "user", "reset-password", cli_user, "--expires-hours", "24"],
                               env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            tally.add(f"cli-reset:exit{p.returncode}")
            if p.returncode != 0:
                errors.append(f"{pool_label} CLI reset-password while the server writes: exit "
                              f"{p.returncode}: {p.stderr.decode(errors='replace')[-400:]}")

    plan = ([threading.Thread(target=email_writer, args=(i,)) for i in range(40)]
            + [threading.Thread(target=resetter, args=(i,)) for i in range(12)]
            + [threading.Thread(target=login_writer, args=(40 + i,)) for i in range(6)]
            + [threading.Thread(target=creator, args=(i,)) for i in range(6)])
    assert len(plan) == 64
    cli = threading.Thread(target=cli_resets)
    t0 = time.time()
    for t in plan:
        t.start()
    cli.start()
    for t in plan + [cli]:
        t.join(timeout=300)
    took = time.time() - t0
    db = open_db(server.db_path)
    for name, email in last_email.items():
        got = db.execute("SELECT email FROM users WHERE username = ?", (name,)).fetchone()[0]
        if got != email:
            errors.append(f"{pool_label} {name}: email {got!r}, last acknowledged write {email!r}")
    db.close()
    for e in errors:
        run.violation(e)
    log(f"64 writers ({pool_label}): {took:.1f} s, {tally.snapshot()}")
    return tally


WRITER_PASSWORD = new_password("w")


def phase2(run, binary, workdir):
    h = Http(run.server)
    writers = []
    victims = []
    for i in range(46):
        name = f"w{i:02d}"
        uid = create_user(h, run.admin_token, name, WRITER_PASSWORD)
        writers.append([name, uid, None])
    for i in range(12):
        name = f"v{i:02d}"
        victims.append((name, create_user(h, run.admin_token, name, WRITER_PASSWORD)))
    create_user(h, run.admin_token, "cliuser", WRITER_PASSWORD)
    for i, w in enumerate(writers):
        c = Http(run.server, f"127.253.0.{i + 1}")
        w[2] = expect(c.login(w[0], WRITER_PASSWORD), 200, f"login {w[0]}").data["token"]
        c.close()
    h.close()
    writers_phase(run, writers, victims, "cliuser", "p1", rounds=8)
    # Again with a pool of 8 connections: now the server's own connections contend too.
    run.server.stop()
    run.server.extra_env["PASSGATE_DB_MAX_CONNECTIONS"] = "8"
    run.server.start()
    writers_phase(run, writers, victims, "cliuser", "p8", rounds=8)


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the crash phase")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tamper", action="store_true",
                    help="self-test of the checks: damage four users' rows before verifying; "
                         "the run must then report violations for u00..u03")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    log(f"seed {args.seed} (repeat with --seed {args.seed})")
    install_signal_exit()

    db_path = os.path.join(args.workdir, "fault.db")
    audit_file = os.path.join(args.workdir, "audit.jsonl")
    server = Server(args.binary, args.workdir, db_path,
                    env={"PASSGATE_LOG": "info", "PASSGATE_AUDIT_FILE": audit_file}, name="fault-server")
    run = Run(server, args)
    threads = []
    try:
        server.start()
        run.admin_password = new_password("a")
        run.admin_token = bootstrap_admin(server, run.admin_password)
        h = Http(server)
        for i in range(args.users):
            name = f"u{i:02d}"
            password = new_password("i")
            uid = create_user(h, run.admin_token, name, password)
            run.users.append(User(name, uid, password, time.time()))
        h.close()
        snapshot(run, "start")
        run.up.set()
        log(f"crash phase: {args.kills} SIGKILLs over ~{args.duration:.0f} s, {args.users} users")
        for _ in range(2):
            threads.append(guarded(run, "admin", admin_worker(run)))
        for _ in range(3):
            threads.append(guarded(run, "user", user_worker(run)))
        threads.append(guarded(run, "race", race_worker(run)))

        rng = random.Random(args.seed + 1)
        mean = args.duration / max(args.kills, 1)
        for i in range(args.kills):
            time.sleep(rng.uniform(0.3 * mean, 1.7 * mean))
            if i % 2 == 1:
                aim_at_commit(run, rng)
            run.up.clear()
            server.kill()
            run.counts.add("kills")
            state = snapshot(run, f"after kill {i + 1}")
            resolve_in_flight(run, state, f"after kill {i + 1}")
            server.start()
            run.epoch += 1
            run.up.set()
        time.sleep(1.0)
        run.stop.set()
        for t in threads:
            t.join(timeout=60)
        # A last crash with nothing in flight is pointless; the final state is read with the
        # server up and idle.
        if args.tamper:
            tamper(run)
        snapshot(run, "final")
        check_snapshots(run)
        tokens, sessions = verify_users(run)
        check_no_secrets(run)
        check_audit_stream(run)
        ops = [o for u in run.users for o in u.ops if o.kind != CREATE]
        by_outcome = {}
        for o in ops:
            by_outcome[o.outcome] = by_outcome.get(o.outcome, 0) + 1
        log(f"crash phase: {len(ops)} credential operations {dict(sorted(by_outcome.items()))}; "
            f"{tokens} tokens and {sessions} sessions checked")
        log(f"tally: {run.counts.snapshot()}")

        log("64 concurrent writers")
        phase2(run, args.binary, args.workdir)
        check_no_secrets(run)
    except SystemExit:
        run.violation("interrupted")
        raise
    except Exception as e:
        import traceback
        traceback.print_exc()
        run.violation(f"driver error: {type(e).__name__}: {e}")
    finally:
        run.stop.set()
        server.stop()
    if run.violations:
        log(f"FAILED: {len(run.violations)} violation(s):")
        for v in run.violations:
            print("  -", v)
        print(f"fault: 0 passed, {len(run.violations)} failed")
        return 1
    print("fault: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
