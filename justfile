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
