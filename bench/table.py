#!/usr/bin/env python3
"""Prints the benchmark table (markdown) from the RESULT lines bench/run.sh collected.

usage: table.py WORK_DIR key=value...   (the values measured outside wrk)
Each wrk figure is the median over the runs; a run with any error or non-2xx answer fails
the whole benchmark (exit 1), since its numbers would not be of the real work.
"""
import os
import platform
import statistics
import sys


def runs(work, name):
    out = []
    with open(os.path.join(work, f"{name}.txt")) as f:
        for line in f:
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            out.append({k: float(v) for k, v in fields.items()})
    if not out:
        sys.exit(f"table.py: no runs of {name}")
    bad = [r for r in out if r["errors"] > 0]
    if bad:
        sys.exit(f"table.py: {name}: {len(bad)} run(s) had errors or non-2xx answers: {bad}")
    return out


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def forward_auth_rows(work, row):
    """Forward authentication (SPEC §15.2), ratios run by run (bench/forward_auth.sh)."""
    if not os.path.exists(os.path.join(work, "fa_nginx.txt")):
        return
    fa_nginx, fa_plain = runs(work, "fa_nginx"), runs(work, "fa_plain")
    fa_direct, fa_health = runs(work, "fa_direct"), runs(work, "fa_healthz")
    through = statistics.median(a["rps"] / b["rps"] for a, b in zip(fa_nginx, fa_plain))
    alone = statistics.median(a["rps"] / b["rps"] for a, b in zip(fa_direct, fa_health))
    row("forward auth through nginx (auth_request, SSO cookie) to an app, 16 conn.: req/s",
        f"{med(fa_nginx, 'rps'):,.0f}")
    row("  the same nginx, same app, no auth_request: req/s", f"{med(fa_plain, 'rps'):,.0f}")
    row("  ratio", f"{through:.2f}", "≥ 0.5", through >= 0.5)
    row("  p50 / p99 through nginx", f"{med(fa_nginx, 'p50_ms'):.2f} / {med(fa_nginx, 'p99_ms'):.2f} ms")
    if os.path.exists(os.path.join(work, "fa_ceiling.txt")):
        # The bounds of that ratio on this machine (bench/forward_auth.sh).
        for name, label in (
            ("fa_ceiling", "the same, asking a do-nothing authoriser (nginx `return 200`, "
                           "own process): req/s, ratio"),
            ("fa_floor", "the same, asking passgate for an embedded file (no database, "
                         "no decision): req/s, ratio"),
        ):
            bound = runs(work, name)
            ratio = statistics.median(a["rps"] / b["rps"] for a, b in zip(bound, fa_plain))
            row(f"  {label}", f"{med(bound, 'rps'):,.0f}, {ratio:.2f}")
    row("the decision alone (GET /api/authz/auth-request), 16 conn.: req/s",
        f"{med(fa_direct, 'rps'):,.0f}")
    row("  /healthz of the same instance: req/s", f"{med(fa_health, 'rps'):,.0f}")
    row("  ratio", f"{alone:.2f}", "≥ 0.7", alone >= 0.7)
    row("  p50 / p99 / server CPU per decision",
        f"{med(fa_direct, 'p50_ms'):.2f} / {med(fa_direct, 'p99_ms'):.2f} ms / {med(fa_direct, 'cpu_us'):.0f} µs")


def overview_rows(work, given, row):
    """The administrator's overview (SPEC §18), measured after the load beside the users page
    (run by run), and the sign-ins with and without the overview's audit triggers."""
    o_users = runs(work, "overview_users_1")
    o_dash = runs(work, "overview_dashboard_1")
    o_dash16 = runs(work, "overview_dashboard_16")
    o_manager = runs(work, "overview_manager_1")
    o_filtered = runs(work, "overview_filtered_1")
    o_manager_users = runs(work, "overview_manager_users_1")
    o_ratio = statistics.median(d["p50_ms"] / u["p50_ms"] for d, u in zip(o_dash, o_users))
    m_ratio = statistics.median(d["p50_ms"] / u["p50_ms"] for d, u in zip(o_manager, o_manager_users))
    o_cpu = statistics.median(d["cpu_us"] / u["cpu_us"] for d, u in zip(o_dash, o_users))
    row(f"/panel/dashboard with the overview, 10,000 users, {int(given['audit_rows']):,} audit entries "
        "(30 days), 3 apps, 1 connection: p50", f"{med(o_dash, 'p50_ms'):.2f} ms")
    row("  its p50 ÷ the users page's p50 (same minutes, run by run)", f"{o_ratio:.2f}", "≤ 3", o_ratio <= 3)
    row("  server CPU per request (÷ the users page's)", f"{med(o_dash, 'cpu_us'):.0f} µs ({o_cpu:.2f})")
    row("  the users page beside it: p50 / CPU per request",
        f"{med(o_users, 'p50_ms'):.2f} ms / {med(o_users, 'cpu_us'):.0f} µs")
    row("  16 connections: p50 / p99 / req/s",
        f"{med(o_dash16, 'p50_ms'):.2f} ms / {med(o_dash16, 'p99_ms'):.2f} ms / {med(o_dash16, 'rps'):,.0f}")
    row("a USER_CONFIG manager's dashboard (1,000 users; the chart from their daily rows), "
        "1 connection: p50", f"{med(o_manager, 'p50_ms'):.2f} ms")
    row("  its p50 ÷ the manager's users page's p50 (run by run)", f"{m_ratio:.2f}", "≤ 3", m_ratio <= 3)
    row("  the manager's users page beside it: p50 / CPU per request",
        f"{med(o_manager_users, 'p50_ms'):.2f} ms / {med(o_manager_users, 'cpu_us'):.0f} µs")
    row("/panel/panel_config?status=no_mfa (first page), 1 connection: p50",
        f"{med(o_filtered, 'p50_ms'):.2f} ms")
    # The triggers that count sign-ins for the charts, on the sign-in path: the same logins
    # without them and with them, in the same minutes, the order alternating run by run.
    plain, rolled = runs(work, "logins_no_rollup"), runs(work, "logins_rollup")
    l_ratio = statistics.median(r["rps"] / p["rps"] for r, p in zip(rolled, plain))
    each = " ".join(f"{r['rps'] / p['rps']:.2f}" for r, p in zip(rolled, plain))
    row("logins/s, 16 clients, with ÷ without the overview's audit triggers (run by run, "
        "order alternating)",
        f"{med(rolled, 'rps'):.1f} ÷ {med(plain, 'rps'):.1f} = {l_ratio:.2f} ({each})", "≥ 0.95",
        l_ratio >= 0.95)
    row("  login p50 with / without", f"{med(rolled, 'p50_ms'):.0f} / {med(plain, 'p50_ms'):.0f} ms")
    ins_plain = statistics.median(float(x) for x in open(f"{work}/audit_inserts_plain.txt").read().split())
    ins_rolled = statistics.median(float(x) for x in open(f"{work}/audit_inserts_rollup.txt").read().split())
    row("  one sign-in audit entry of a managed user written: with / without the triggers "
        "(20,000 in a transaction)",
        f"{ins_rolled * 1000 / 20000:.1f} / {ins_plain * 1000 / 20000:.1f} µs")


def print_table(given, rows):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    startup = ""
    if given.get("start_existing_all"):
        startup = (f"start-up runs (ms): existing {given['start_existing_all']}; "
                   f"empty {given['start_empty_all']}; ")
    only = f"only the {given['only']} rows; " if given.get("only") else ""
    print(f"passgate benchmark: {given['cores']} cores ({cpu}), {platform.system()} {platform.release()}; "
          f"{only}medians of {given['runs']} runs of {given['seconds']} s (wrk, 1 thread); "
          f"{startup}load average before {given['load_before']}, after {given['load_after']}")
    print()
    print("| figure | value | target | met |")
    print("|---|---|---|---|")
    for figure, value, target, ok in rows:
        print(f"| {figure} | {value} | {target} | {ok} |")
    missed = [r[0].strip() for r in rows if r[3] == "**MISSED**"]
    print()
    print("targets missed: " + ("; ".join(missed) if missed else "none"))


def main():
    work = sys.argv[1]
    given = dict(arg.split("=", 1) for arg in sys.argv[2:])
    cores = int(given["cores"])
    rows = []

    def row(figure, value, target="", ok=None):
        rows.append((figure, value, target, "" if ok is None else ("yes" if ok else "**MISSED**")))

    if given.get("only") == "overview":
        overview_rows(work, given, row)
        print_table(given, rows)
        return
    if given.get("only") == "forward_auth":
        forward_auth_rows(work, row)
        print_table(given, rows)
        return
    # Before each run's logins: one hash alone, and one hash while every core hashes (the limit
    # of that run). The share of the limit is taken run by run.
    with open(os.path.join(work, "hash_runs.txt")) as f:
        hash_runs = [tuple(float(v) for v in line.split()) for line in f if line.strip()]
    alone = [a for a, _ in hash_runs]
    every_core = [p for _, p in hash_runs]
    hash_ms = statistics.median(every_core)
    limit = cores * 1000.0 / hash_ms

    health = runs(work, "healthz")
    bearer = runs(work, "me_bearer")
    cookie = runs(work, "me_cookie")
    pages = {(kind, conns): runs(work, f"users_{kind}_{conns}")
             for kind in ("first", "search") for conns in (1, 16)}
    logins = runs(work, "logins")
    storm_logins = runs(work, "storm_logins")
    storm_me = runs(work, "storm_me")

    # Ratios are taken run by run (the same minute of the same machine), then the median.
    def ratio(rows):
        return statistics.median(r["rps"] / h["rps"] for r, h in zip(rows, health))

    h_rps = med(health, "rps")
    row("GET /healthz, 16 connections: req/s", f"{h_rps:,.0f}")
    row("  p50 / p99", f"{med(health, 'p50_ms'):.2f} / {med(health, 'p99_ms'):.2f} ms")
    row("  server CPU per request", f"{med(health, 'cpu_us'):.0f} µs")
    for label, data in (("bearer token", bearer), ("session cookie", cookie)):
        r = ratio(data)
        p99 = med(data, "p99_ms")
        row(f"GET /api/v2/users/@me, {label}, 16 conn.: req/s", f"{med(data, 'rps'):,.0f}")
        row("  ratio to /healthz", f"{r:.2f}", "≥ 0.5", r >= 0.5)
        row("  p50", f"{med(data, 'p50_ms'):.2f} ms")
        row("  p99", f"{p99:.2f} ms", "< 5 ms", p99 < 5)
        row("  server CPU per request", f"{med(data, 'cpu_us'):.0f} µs")
    token = runs(work, "oidc_token")
    row("POST /oauth2/token, code exchanges (RS256 ID token), 16 conn.: req/s",
        f"{med(token, 'rps'):,.0f}")
    row("  ratio to /healthz (run by run)", f"{ratio(token):.3f}")
    row("  p50 / p99", f"{med(token, 'p50_ms'):.2f} / {med(token, 'p99_ms'):.2f} ms")
    row("  server CPU per request", f"{med(token, 'cpu_us'):.0f} µs")
    for name, label in (("none", "nothing typed"), ("name", "a typed name without passkeys (decoys)")):
        data = runs(work, f"passkey_options_{name}")
        row(f"POST /api/v2/auth/passkey/login/options, {label}, 16 conn.: req/s",
            f"{med(data, 'rps'):,.0f}")
        row("  ratio to /healthz / p50 / p99",
            f"{ratio(data):.2f} / {med(data, 'p50_ms'):.2f} / {med(data, 'p99_ms'):.2f} ms")
        row("  server CPU per request", f"{med(data, 'cpu_us'):.0f} µs")
    row("one argon2id hash (m=19456 KiB, t=2, p=1), alone",
        f"{statistics.median(alone):.1f} ms ({' '.join(f'{h:.1f}' for h in alone)}; "
        f"at the start {float(given['hash_ms']):.1f})")
    row(f"  while all {cores} cores hash at once", f"{hash_ms:.1f} ms ({' '.join(f'{h:.1f}' for h in every_core)})")
    row(f"argon2 limit = {cores} cores ÷ one hash (all cores hashing)", f"{limit:.1f} logins/s")
    l_rps = med(logins, "rps")
    share = statistics.median(r["rps"] * p / (cores * 1000.0) for r, p in zip(logins, every_core))
    share_alone = statistics.median(r["rps"] * a / (cores * 1000.0) for r, a in zip(logins, alone))
    row("logins/s, 16 concurrent clients", f"{l_rps:.1f}")
    row("  share of the argon2 limit (run by run)", f"{100 * share:.0f} %", "≥ 90 %", share >= 0.9)
    row(f"  share of {cores} cores ÷ one hash alone", f"{100 * share_alone:.0f} %")
    row("  login p50 / p99", f"{med(logins, 'p50_ms'):.0f} / {med(logins, 'p99_ms'):.0f} ms")
    totp = runs(work, "logins_totp")
    t_share = statistics.median(r["rps"] * p / (cores * 1000.0) for r, p in zip(totp, every_core))
    row("sign-ins with a TOTP code/s, 16 concurrent clients", f"{med(totp, 'rps'):.1f}")
    row("  share of the argon2 limit (run by run)", f"{100 * t_share:.0f} %",
        "within noise of the logins above", abs(t_share - share) <= 0.1)
    row("  p50 / p99", f"{med(totp, 'p50_ms'):.0f} / {med(totp, 'p99_ms'):.0f} ms")
    s_p99 = med(storm_me, "p99_ms")
    row("@me (bearer, 16 conn.) during a 64-conn. login storm: p99", f"{s_p99:.2f} ms", "< 20 ms", s_p99 < 20)
    row("  its p50 / req/s", f"{med(storm_me, 'p50_ms'):.2f} ms / {med(storm_me, 'rps'):,.0f}")
    row("  logins/s during the storm", f"{med(storm_logins, 'rps'):.1f}")
    for kind, label in (("first", "first page"), ("search", "search ?q=user012 (100 matches)")):
        one, loaded = pages[(kind, 1)], pages[(kind, 16)]
        p50 = med(one, "p50_ms")
        row(f"/panel/panel_config, 10,000 users, {label}, 1 connection: p50", f"{p50:.2f} ms", "< 10 ms", p50 < 10)
        row("  p99 / req/s", f"{med(one, 'p99_ms'):.2f} ms / {med(one, 'rps'):,.0f}")
        row("  server CPU per request", f"{med(one, 'cpu_us'):.0f} µs")
        row("  16 connections: p50 / p99 / req/s",
            f"{med(loaded, 'p50_ms'):.2f} ms / {med(loaded, 'p99_ms'):.2f} ms / {med(loaded, 'rps'):,.0f}")
    # Metrics off and on (SPEC §17), measured one after the other in every run.
    for what, label in (("me", "GET /api/v2/users/@me, bearer token, 16 conn."),
                        ("logins", "logins/s, 16 concurrent clients")):
        off, on = runs(work, f"ab_{what}_off"), runs(work, f"ab_{what}_on")
        rps_ratio = statistics.median(b["rps"] / a["rps"] for a, b in zip(off, on))
        cpu_ratio = statistics.median(b["cpu_us"] / a["cpu_us"] for a, b in zip(off, on))
        row(f"metrics A/B: {label}, off / on: req/s",
            f"{med(off, 'rps'):,.1f} / {med(on, 'rps'):,.1f}")
        row("  p50 / p99, off", f"{med(off, 'p50_ms'):.2f} / {med(off, 'p99_ms'):.2f} ms")
        row("  p50 / p99, on", f"{med(on, 'p50_ms'):.2f} / {med(on, 'p99_ms'):.2f} ms")
        each = " ".join(f"{b['rps'] / a['rps']:.2f}" for a, b in zip(off, on))
        row("  on ÷ off, req/s (run by run)", f"{rps_ratio:.2f} ({each})",
            "within noise (0.9–1.1)", 0.9 <= rps_ratio <= 1.1)
        row("  on ÷ off, server CPU per request", f"{cpu_ratio:.2f} ({med(off, 'cpu_us'):.0f} / {med(on, 'cpu_us'):.0f} µs)")
    overview_rows(work, given, row)
    if os.path.exists(os.path.join(work, "secure_delete_ON.txt")):
        # SQLite's secure_delete (issue 22): a one-time result written and deleted, run by run.
        sd_off = [float(x) for x in open(f"{work}/secure_delete_OFF.txt").read().split()]
        sd_on = [float(x) for x in open(f"{work}/secure_delete_ON.txt").read().split()]
        sd_ratio = statistics.median(on / off for on, off in zip(sd_on, sd_off))
        row("a one-time result written and deleted (SQLite, autocommit): secure_delete on / off",
            f"{statistics.median(sd_on):.1f} / {statistics.median(sd_off):.1f} µs = {sd_ratio:.2f}")
    idle = int(given["rss_idle_kib"]) / 1024
    row("RSS idle after start (VmRSS)", f"{idle:.1f} MiB", "≤ 15 MB", idle * 1024 * 1024 <= 15e6)
    row("  of which private (RssAnon) / mapped files: binary, libc (RssFile)",
        f"{int(given['rss_idle_anon_kib']) / 1024:.1f} / {int(given['rss_idle_file_kib']) / 1024:.1f} MiB")
    row("RSS after the load (VmRSS)", f"{int(given['rss_loaded_kib']) / 1024:.1f} MiB")
    row("  peak during the load (VmHWM)", f"{int(given['rss_peak_kib']) / 1024:.1f} MiB")
    row("  13 s after the load (hash memory released)", f"{int(given['rss_settled_kib']) / 1024:.1f} MiB")
    forward_auth_rows(work, row)
    se = float(given["start_existing_ms"])
    row("start → first 200 /healthz, existing database (10,000 users)", f"{se:.1f} ms", "< 100 ms", se < 100)
    row("start → first 200 /healthz, empty database", f"{float(given['start_empty_ms']):.1f} ms")

    print_table(given, rows)


if __name__ == "__main__":
    main()
