#!/usr/bin/env python3
"""Time from process start to the first 200 from GET /healthz, median of several runs.

usage: startup.py BIN PORT RUNS (existing DB_FILE | empty WORK_DIR)

`existing` starts the server on a copy of DB_FILE each time (so every run sees the same
database); `empty` on a new, empty file each time (migrations and the first admin included).
The clock starts right before the process is spawned and stops when a /healthz answer with
status 200 has been read; polling is a fresh connection every 0.5 ms.
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time


def healthz_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_run(binary, port, db_file):
    env = dict(os.environ)
    env["PASSGATE_BIND"] = f"127.0.0.1:{port}"
    env["PASSGATE_DATABASE_URL"] = f"sqlite://{db_file}?mode=rwc"
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = started + 20
        while time.perf_counter() < deadline:
            if healthz_ok(port):
                return (time.perf_counter() - started) * 1000
            if proc.poll() is not None:
                sys.exit(f"startup.py: the server exited with {proc.returncode}")
            time.sleep(0.0005)
        sys.exit("startup.py: no 200 from /healthz within 20 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    binary, port, runs, kind, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    times = []
    for i in range(runs):
        if kind == "existing":
            work = os.path.dirname(path)
            db = os.path.join(work, f"startup-copy.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            shutil.copyfile(path, db)
        else:
            db = os.path.join(path, f"startup-empty-{i}.db")
        # A warm page cache for the binary and the file, as on a server that restarts.
        times.append(one_run(binary, port, db))
        if kind == "empty":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
    print(f"{statistics.median(times):.1f} " + " ".join(f"{t:.1f}" for t in times))


if __name__ == "__main__":
    main()
