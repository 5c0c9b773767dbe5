#!/usr/bin/env python3
"""Soak: a mixed workload against a release passgate on SQLite for DURATION seconds, with a
handful of threads (Python 3 standard library only).

Each thread owns three users (a USER_CONFIG manager M, and two users A and B that M manages)
and loops over a weighted mix:
  api-read     A's login token: GET /api/v2/users and /users/@me
  admin-read   the superuser's token: GET /api/v2/users
  web-manager  M signs in with the web form, GET /panel/panel_config (with ?q= search now and
               then) and /panel/dashboard, POST /logout; the old cookie then gets 303 /login
  reset-api    the superuser resets B (require_password_change); B signs in (flag set), is
               held by the gate (GET /users: 403 PASSWORD_CHANGE_REQUIRED), changes the
               password with PATCH /users/@me, and reads with the fresh token
  reset-web    the same reset, then B signs in with the web form, is sent to
               /panel/change_password, completes the forced change there, lands on the
               dashboard and signs out
  voluntary    A changes its own password (PATCH @me with current_password)
  invalidate   A ends its tokens (POST /auth/invalidate_tokens); the old token gets 401
  api-key      M creates an API key, lists users with it, deletes it
  bad-login    a wrong password for a nonexistent user, from an address of its own: 401,
               then 429 once that address is locked
Answers the workload provokes on purpose (the gate's 403, 401 for ended tokens and wrong
passwords, 429 from the throttle) are counted apart; anything else that is not the expected
answer is an error, and a single error fails the soak.

The server's VmRSS is sampled every few seconds. After a warm-up (20% of the run, at least
10 s), the median of the last third of the samples may exceed the median of the first third
by at most max(8 MiB, 20%); more fails the soak.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import (  # noqa: E402
    Http, Server, bootstrap_admin, create_user, expect, install_signal_exit, log, new_password,
)

WEIGHTS = {
    "api-read": 24,
    "admin-read": 8,
    "web-manager": 16,
    "reset-api": 12,
    "reset-web": 8,
    "voluntary": 6,
    "invalidate": 6,
    "api-key": 6,
    "bad-login": 4,
}

RSS_BOUND_KIB = 8 * 1024
RSS_BOUND_RATIO = 0.20


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}  # label -> [seconds]
        self.provoked = {}  # "label status code" -> n
        self.errors = []
        self.error_count = 0
        self.requests = 0

    def took(self, label, seconds):
        with self.lock:
            self.latency.setdefault(label, []).append(seconds)
            self.requests += 1

    def provoke(self, key):
        with self.lock:
            self.provoked[key] = self.provoked.get(key, 0) + 1

    def error(self, text):
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 30:
                self.errors.append(text)
        log("ERROR:", text)


class Actor:
    """One worker thread's users and clients."""

    def __init__(self, soak, index):
        self.soak = soak
        self.index = index
        self.rng = random.Random(soak.seed * 1000 + index)
        self.api = Http(soak.server, f"127.60.{index}.1")
        self.decoy = Http(soak.server, f"127.61.{index}.1")
        self.m = self.a = self.b = None  # [name, id, password]
        self.a_token = None

    # One request, checked ----------------------------------------------------------------

    def call(self, label, fn, ok, provoked=()):
        t0 = time.monotonic()
        try:
            r = fn()
        except Exception as e:
            self.soak.stats.error(f"{label}: {type(e).__name__}: {e}")
            raise Abort() from e
        self.soak.stats.took(label, time.monotonic() - t0)
        if r.status in ok:
            return r
        if r.status in provoked:
            self.soak.stats.provoke(f"{label} {r.status} {r.code or ''}".rstrip())
            return r
        self.soak.stats.error(f"{label}: {r.status} {r.body[:300]!r}")
        raise Abort()

    def login(self, http, user, label="login"):
        r = self.call(label, lambda: http.login(user[0], user[2]), (200,))
        return r.data["token"], r.data["require_password_change"]

    def web_login(self, http, user, label="web-login"):
        page = self.call(f"{label}:page", lambda: http.request("GET", "/login"), (200,))
        csrf = http.csrf_from(page.body)
        form = {"username": user[0], "password": user[2], "csrf_token": csrf or ""}
        return self.call(label, lambda: http.request("POST", "/login", form=form), (303,))

    def logout(self, http, csrf):
        r = self.call("web-logout", lambda: http.request("POST", "/logout", form={"csrf_token": csrf or ""}),
                      (303,))
        if (r.header("location") or "").split("?")[0] != "/login":
            self.soak.stats.error(f"logout went to {r.header('location')}")

    # The mix ------------------------------------------------------------------------------

    def api_read(self):
        if self.a_token is None:
            self.a_token, _ = self.login(self.api, self.a)
        r = self.call("api-read:list", lambda: self.api.api("GET", "/users", token=self.a_token), (200,))
        if not any(row.get("username") == self.a[0] for row in r.data):
            self.soak.stats.error("GET /users of a plain user does not list the user")
        self.call("api-read:me", lambda: self.api.api("GET", "/users/@me", token=self.a_token), (200,))

    def admin_read(self):
        r = self.call("admin-read:list", lambda: self.api.api("GET", "/users", token=self.soak.admin_token),
                      (200,))
        if len(r.data) < 1 + 3 * self.soak.threads:
            self.soak.stats.error(f"the superuser lists {len(r.data)} users")

    def web_manager(self):
        web = Http(self.soak.server, f"127.62.{self.index}.1")
        try:
            r = self.web_login(web, self.m)
            if r.header("location") != "/panel/dashboard":
                self.soak.stats.error(f"manager web login went to {r.header('location')}")
            path = "/panel/panel_config"
            if self.rng.random() < 0.3:
                path += f"?q={self.a[0]}"
            page = self.call("web:panel_config", lambda: web.request("GET", path), (200,))
            if self.a[0].encode() not in page.body:
                self.soak.stats.error(f"{path} does not show the managed user {self.a[0]}")
            page = self.call("web:dashboard", lambda: web.request("GET", "/panel/dashboard"), (200,))
            old = dict(web.cookies)
            self.logout(web, web.csrf_from(page.body))
            web.cookies = old
            r = self.call("web:after-logout", lambda: web.request("GET", "/panel/panel_config"), (303,))
            # (The sign-in page may be told why: /login?ended=signed_out.)
            if (r.header("location") or "").split("?")[0] != "/login":
                self.soak.stats.error(f"a signed-out cookie got {r.header('location')}")
        finally:
            web.close()

    def reset_b(self):
        temp = new_password("t")
        body = {"password": temp, "require_password_change": True,
                "expires_hours": self.rng.choice([-1, 24])}
        r = self.call("reset", lambda: self.api.api("POST", f"/users/{self.b[1]}/reset-password", body,
                                                     token=self.soak.admin_token), (200,))
        if not r.data.get("require_password_change"):
            self.soak.stats.error(f"reset answered {r!r}")
        self.b[2] = temp

    def reset_api(self):
        self.reset_b()
        http = Http(self.soak.server, f"127.63.{self.index}.1")
        try:
            token, flagged = self.login(http, self.b, "login-flagged")
            if not flagged:
                self.soak.stats.error("sign-in after a reset is not flagged")
            self.call("gate", lambda: http.api("GET", "/users", token=token), (), provoked=(403,))
            new = new_password("n")
            r = self.call("forced-change-api", lambda: http.api("PATCH", "/users/@me", {"password": new},
                                                                  token=token), (200,))
            self.b[2] = new
            fresh = r.data["token"]
            self.call("api-read:after-change", lambda: http.api("GET", "/users/@me", token=fresh), (200,))
            self.call("old-token", lambda: http.api("GET", "/users/@me", token=token), (), provoked=(401,))
        finally:
            http.close()

    def reset_web(self):
        self.reset_b()
        web = Http(self.soak.server, f"127.64.{self.index}.1")
        try:
            r = self.web_login(web, self.b, "web-login-flagged")
            if r.header("location") != "/panel/change_password":
                self.soak.stats.error(f"flagged web login went to {r.header('location')}")
            r = self.call("web:gate", lambda: web.request("GET", "/panel/panel_config"), (303,))
            if r.header("location") != "/panel/change_password":
                self.soak.stats.error(f"the web gate sent a flagged user to {r.header('location')}")
            page = self.call("web:change_password", lambda: web.request("GET", "/panel/change_password"), (200,))
            new = new_password("w")
            form = {"new_password": new, "confirm_password": new, "csrf_token": web.csrf_from(page.body) or ""}
            r = self.call("forced-change-web", lambda: web.request("POST", "/panel/change_password", form=form),
                          (303,))
            if r.header("location") != "/panel/dashboard":
                self.soak.stats.error(f"forced change went to {r.header('location')}")
            self.b[2] = new
            page = self.call("web:dashboard", lambda: web.request("GET", "/panel/dashboard"), (200,))
            self.logout(web, web.csrf_from(page.body))
        finally:
            web.close()

    def voluntary(self):
        if self.a_token is None:
            self.a_token, _ = self.login(self.api, self.a)
        new = new_password("v")
        r = self.call("voluntary-change", lambda: self.api.api(
            "PATCH", "/users/@me", {"password": new, "current_password": self.a[2]}, token=self.a_token), (200,))
        self.a[2] = new
        self.a_token = r.data["token"]

    def invalidate(self):
        if self.a_token is None:
            self.a_token, _ = self.login(self.api, self.a)
        old = self.a_token
        self.a_token = None
        self.call("invalidate", lambda: self.api.api("POST", "/auth/invalidate_tokens", token=old), (200,))
        self.call("old-token", lambda: self.api.api("GET", "/users/@me", token=old), (), provoked=(401,))

    def api_key(self):
        token, _ = self.login(self.api, self.m, "login-manager")
        r = self.call("key-create", lambda: self.api.api(
            "POST", f"/users/{self.m[1]}/key", {"name": "soak", "permissions": [{"name": "USER_CONFIG"}]}, token=token),
            (201,))
        key_id, secret = r.data["key_id"], r.data["token"]
        r = self.call("key-read", lambda: self.api.api("GET", "/users", token=secret), (200,))
        if len(r.data) < 3:
            self.soak.stats.error(f"the manager's key lists {len(r.data)} users")
        self.call("key-delete", lambda: self.api.api("DELETE", f"/users/{self.m[1]}/key/{key_id}", token=token),
                  (200,))
        self.call("key-deleted", lambda: self.api.api("GET", "/users", token=secret), (), provoked=(401,))

    def bad_login(self):
        name = f"ghost{self.index}x{self.rng.randrange(1000)}"
        self.call("bad-login", lambda: self.decoy.login(name, "Wrong-Horse-Battery-9"), (),
                  provoked=(401, 429))

    def run(self):
        actions = list(WEIGHTS)
        weights = [WEIGHTS[a] for a in actions]
        deadline = self.soak.deadline
        while time.monotonic() < deadline and not self.soak.stop.is_set():
            action = self.rng.choices(actions, weights)[0]
            try:
                getattr(self, action.replace("-", "_"))()
                self.soak.done.add(action)
            except Abort:
                self.a_token = None
                time.sleep(0.2)
            except Exception as e:
                self.soak.stats.error(f"{action}: {type(e).__name__}: {e}")
                time.sleep(0.2)
        self.api.close()
        self.decoy.close()


class Abort(Exception):
    pass


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


class Soak:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.threads = args.threads
        self.stats = Stats()
        self.done = Tally()
        self.stop = threading.Event()
        self.samples = []  # (seconds since start, KiB)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=6)
    ap.add_argument("--sample-every", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    install_signal_exit()
    soak = Soak(args)
    server = Server(args.binary, args.workdir, os.path.join(args.workdir, "soak.db"), name="soak-server")
    soak.server = server
    failures = []
    elapsed, alive = 0.0, False
    try:
        server.start()
        admin_password = new_password("a")
        soak.admin_token = bootstrap_admin(server, admin_password)
        setup = Http(server)
        actors = []
        for i in range(args.threads):
            actor = Actor(soak, i)
            mp, ap_, bp = new_password("m"), new_password("a"), new_password("b")
            mid = create_user(setup, soak.admin_token, f"mgr{i}", mp,
                              permissions=[{"name": "USER_CONFIG", "quantity": -1, "enabled": True}])
            mtoken = expect(setup.login(f"mgr{i}", mp), 200, "manager login").data["token"]
            aid = create_user(setup, mtoken, f"usera{i}", ap_)
            bid = create_user(setup, mtoken, f"userb{i}", bp)
            actor.m, actor.a, actor.b = [f"mgr{i}", mid, mp], [f"usera{i}", aid, ap_], [f"userb{i}", bid, bp]
            actors.append(actor)
        setup.close()
        log(f"soak: {args.duration:.0f} s, {args.threads} threads, seed {args.seed}, server pid {server.proc.pid}")
        start = time.monotonic()
        soak.deadline = start + args.duration
        workers = [threading.Thread(target=a.run, name=f"soak-{a.index}", daemon=True) for a in actors]
        for w in workers:
            w.start()
        next_report = start + 30
        while time.monotonic() < soak.deadline:
            rss = server.rss_kb()
            if rss is None or not server.alive():
                failures.append("the server died during the soak:\n" + server.log_tail())
                break
            soak.samples.append((time.monotonic() - start, rss))
            if time.monotonic() >= next_report:
                log(f"  t={time.monotonic() - start:4.0f} s  rss={rss / 1024:.1f} MiB  "
                    f"requests={soak.stats.requests}  errors={soak.stats.error_count}")
                next_report += 30
            time.sleep(min(args.sample_every, max(0.0, soak.deadline - time.monotonic())) or 0.01)
        soak.stop.set()
        for w in workers:
            w.join(timeout=60)
        elapsed = time.monotonic() - start
        rss = server.rss_kb()
        if rss is not None:
            soak.samples.append((elapsed, rss))
        alive = server.alive()
    except SystemExit:
        failures.append("interrupted")
        raise
    finally:
        soak.stop.set()
        server.stop()

    # ------------------------------------------------------------------- summary
    stats = soak.stats
    print()
    print(f"== soak summary ({elapsed:.0f} s, {args.threads} threads, seed {args.seed})")
    print(f"requests: {stats.requests} ({stats.requests / max(elapsed, 1):.1f}/s), errors: {stats.error_count}")
    print("workload rounds completed: " + ", ".join(f"{k} {v}" for k, v in sorted(soak.done.counts.items())))
    print(f"{'request':28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label in sorted(stats.latency):
        v = stats.latency[label]
        print(f"{label:28} {len(v):6d} {percentile(v, 50) * 1000:8.1f} {percentile(v, 95) * 1000:8.1f} "
              f"{max(v) * 1000:8.1f}")
    print("provoked on purpose (not errors):")
    for key, n in sorted(stats.provoked.items()):
        print(f"  {key}: {n}")
    if stats.errors:
        print("errors (first 30):")
        for e in stats.errors:
            print("  -", e)
        failures.append(f"{stats.error_count} error(s)")
    if not alive:
        failures.append("the server was not running at the end")

    # Memory: medians of the first and last third after the warm-up.
    warmup = max(10.0, 0.2 * args.duration)
    after = [kib for (t, kib) in soak.samples if t >= warmup]
    print(f"rss samples: {len(soak.samples)} (every {args.sample_every:.0f} s); warm-up {warmup:.0f} s")
    if len(after) >= 3:
        third = max(1, len(after) // 3)
        first, last = statistics.median(after[:third]), statistics.median(after[-third:])
        growth = last - first
        bound = max(RSS_BOUND_KIB, RSS_BOUND_RATIO * first)
        print(f"rss: start {soak.samples[0][1] / 1024:.1f} MiB, after warm-up first third median "
              f"{first / 1024:.1f} MiB, last third median {last / 1024:.1f} MiB, max "
              f"{max(after) / 1024:.1f} MiB; growth {growth / 1024:+.1f} MiB (bound {bound / 1024:.1f} MiB "
              f"= max(8 MiB, 20%))")
        if growth > bound:
            failures.append(f"resident memory grew by {growth / 1024:.1f} MiB (bound {bound / 1024:.1f} MiB)")
    else:
        print("rss: too few samples after the warm-up to judge")
        if args.duration >= 30:
            failures.append("too few RSS samples")
    trend = [f"{t:.0f}s:{kib / 1024:.1f}" for (t, kib) in soak.samples[:: max(1, len(soak.samples) // 12)]]
    print("rss trend (MiB): " + " ".join(trend))
    try:
        db = sqlite3.connect(server.db_path)
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("users", "sessions", "audit_log", "login_throttle", "api_keys")}
        anon = db.execute("SELECT COUNT(*) FROM sessions WHERE user_id IS NULL").fetchone()[0]
        db.close()
        print(f"database rows at the end: {counts} (sessions without a user: {anon})")
    except sqlite3.Error as e:
        print(f"database rows: {e}")

    if failures:
        print("SOAK FAILED: " + "; ".join(failures))
        print("soak: 0 passed, 1 failed")
        return 1
    print("soak: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
