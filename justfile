# passgate development recipes (https://github.com/casey/just)

# Serve on the embedded SQLite default at http://127.0.0.1:8000
run:
    cargo run --release

# All Rust tests (unit + the one integration binary)
test:
    cargo test

# Formatting and lints, as CI runs them
lint:
    cargo fmt --all --check
    cargo clippy --all-targets -- -D warnings

fmt:
    cargo fmt --all

# Everything CI runs, including installs
ci:
    bash .ci/run

migrate-up:
    cargo run --release -- migrate up

migrate-down:
    cargo run --release -- migrate down

migrate-status:
    cargo run --release -- migrate status

# Performance benchmark on 127.0.0.1 (installs wrk, builds release, ~4 min); see BENCHMARKS.md
bench:
    bash bench/run.sh

# The browser suite (Debian chromium + playwright-core; installs what it needs)
e2e:
    bash tests/e2e/run.sh

# Soak: mixed load against the release build, resident memory watched (CI runs 60 s)
soak seconds="600":
    bash tests/soak/run.sh {{seconds}}

# Fault injection: SIGKILLs during concurrent resets and changes, then 64 concurrent writers
fault:
    bash tests/fault/run.sh

# Schema-driven fuzzing of /api/v2 (schemathesis) as superuser, manager and flagged user
fuzz-api:
    bash tests/schemathesis/run.sh

# Crafty 4's API clients from PyPI (three, pinned), unchanged, against the release build
crafty-clients:
    bash tests/crafty_clients/run.sh

# Real reverse proxy: Debian nginx terminates TLS in front of the release build (installs nginx, openssl)
proxy:
    bash tests/proxy/run.sh

# Single sign-on through real nginx and Caddy: the snippets of docs/proxies.md in front of an echoing app
forward-auth:
    bash tests/forward_auth/run.sh

# The .deb: built with cargo-deb, installed with dpkg -i, started as its unit would, purged (root)
deb:
    bash tests/deb/run.sh

# The container image: built and run with podman; bases from debootstrap without a registry (root, minutes)
container:
    bash tests/container/run.sh
