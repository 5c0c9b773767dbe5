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


def main():
    work = sys.argv[1]
    given = dict(arg.split("=", 1) for arg in sys.argv[2:])
    cores = int(given["cores"])
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

    rows = []

    def row(figure, value, target="", ok=None):
        rows.append((figure, value, target, "" if ok is None else ("yes" if ok else "**MISSED**")))

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
    idle = int(given["rss_idle_kib"]) / 1024
    row("RSS idle after start (VmRSS)", f"{idle:.1f} MiB", "≤ 15 MB", idle * 1024 * 1024 <= 15e6)
    row("  of which private (RssAnon) / mapped files: binary, libc (RssFile)",
        f"{int(given['rss_idle_anon_kib']) / 1024:.1f} / {int(given['rss_idle_file_kib']) / 1024:.1f} MiB")
    row("RSS after the load (VmRSS)", f"{int(given['rss_loaded_kib']) / 1024:.1f} MiB")
    row("  peak during the load (VmHWM)", f"{int(given['rss_peak_kib']) / 1024:.1f} MiB")
    row("  13 s after the load (hash memory released)", f"{int(given['rss_settled_kib']) / 1024:.1f} MiB")
    se = float(given["start_existing_ms"])
    row("start → first 200 /healthz, existing database (10,000 users)", f"{se:.1f} ms", "< 100 ms", se < 100)
    row("start → first 200 /healthz, empty database", f"{float(given['start_empty_ms']):.1f} ms")

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print(f"passgate benchmark: {cores} cores ({cpu}), {platform.system()} {platform.release()}; "
          f"medians of {given['runs']} runs of {given['seconds']} s (wrk, 1 thread); "
          f"start-up runs (ms): existing {given['start_existing_all']}; empty {given['start_empty_all']}; "
          f"load average before {given['load_before']}, after {given['load_after']}")
    print()
    print("| figure | value | target | met |")
    print("|---|---|---|---|")
    for figure, value, target, ok in rows:
        print(f"| {figure} | {value} | {target} | {ok} |")
    missed = [r[0].strip() for r in rows if r[3] == "**MISSED**"]
    print()
    print("targets missed: " + ("; ".join(missed) if missed else "none"))


if __name__ == "__main__":
    main()
