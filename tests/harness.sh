# Shared by tests/{fault,soak,schemathesis,deb}/run.sh (sourced, not run): python3, the
# release binary, a work directory under target/NAME/, and a cleanup that ends the driver and
# every server it started (listed in WORK/server.pids) on any exit, keeping WORK on failure.
# A suite with more to undo defines `harness_before_cleanup`, run first.
#
#   source tests/harness.sh; harness_init NAME "what is kept"; run_driver SECONDS CMD…

harness_init() {
  harness_name=$1
  harness_kept=$2
  root=$(pwd)
  export PYTHONDONTWRITEBYTECODE=1
  command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
  if [ -z "${PASSGATE_BIN:-}" ]; then
    echo "== cargo build --release"
    cargo build --release --quiet
    PASSGATE_BIN="$root/target/release/passgate"
  fi
  mkdir -p "$root/target/$harness_name"
  work=$(mktemp -d "$root/target/$harness_name/run.XXXXXX")
  driver_pid=""
  trap harness_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}

harness_cleanup() {
  local status=$?
  if declare -F harness_before_cleanup >/dev/null; then
    harness_before_cleanup || true
  fi
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    sleep 1
  fi
  # Every server the driver started, by its id (even if the driver itself died).
  if [ -f "$work/server.pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done < "$work/server.pids"
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "$harness_name: work directory kept: $work ($harness_kept)"
  fi
  exit "$status"
}

# Runs the driver under a time limit (a backstop: every driver bounds itself).
run_driver() {
  local limit=$1
  shift
  timeout --signal=TERM --kill-after=30 "$limit" "$@" &
  driver_pid=$!
  wait "$driver_pid"
}
