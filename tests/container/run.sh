#!/usr/bin/env bash
# The container image (SPEC §17): builds the Dockerfile with podman and runs it: the
# HEALTHCHECK passes, the process is not root, the database is in the /data volume, the
# printed admin password signs in, SIGTERM stops it cleanly.
#
#   tests/container/run.sh
#
# Installs podman, buildah, runc and debootstrap from Debian when missing. The Dockerfile's
# bases (rust:1.95-bookworm, debian:bookworm-slim) are pulled when a registry answers; when
# none does (this project's CI machines), stand-ins with the same names are made once and
# kept in podman's store: debian:bookworm-slim from `debootstrap --variant=minbase bookworm`,
# the Rust image from the same plus gcc, make and perl from Debian and this machine's Rust
# toolchain (`rustc --print sysroot`) and certificate authorities. The build compiles passgate
# from source inside the container (crates.io through the host's network), so it takes
# minutes.
#
# podman runs with the runc runtime, file and process limits it may set, and only this
# script's own settings (CONTAINERS_CONF): a machine without CAP_SYS_RESOURCE or with hybrid
# cgroups cannot run crun's defaults. Loopback traffic only. The work directory is kept
# under target/container/ on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PYTHONDONTWRITEBYTECODE=1
RUST_IMAGE=docker.io/library/rust:1.95-bookworm
RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim
IMAGE=localhost/passgate:test
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
  echo "container: needs root (rootful podman)" >&2
  exit 2
fi
need=()
for tool in podman buildah runc debootstrap python3; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$root/target/container"
work=$(mktemp -d "$root/target/container/run.XXXXXX")
cat > "$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$work/containers.conf"
container=""
cleanup() {
  status=$?
  if [ -n "$container" ]; then
    podman rm -f -t 5 "$container" >/dev/null 2>&1 || true
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "container: work directory kept: $work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# A Debian 12 root file system, made once per run of this function.
debootstrap_root() {
  local dir=$1
  shift
  echo "== debootstrap bookworm $*"
  debootstrap --variant=minbase "$@" bookworm "$dir" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; return 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
}

have_image() { podman image exists "$1"; }

if ! have_image "$RUNTIME_IMAGE" && ! timeout 60 podman pull -q "$RUNTIME_IMAGE" >/dev/null 2>&1; then
  debootstrap_root "$work/runtime-root"
  tar -C "$work/runtime-root" -c . | podman import -q \
    --change 'CMD ["bash"]' - "$RUNTIME_IMAGE" >/dev/null
  rm -rf "$work/runtime-root"
  echo "made $RUNTIME_IMAGE with debootstrap"
fi
if ! have_image "$RUST_IMAGE" && ! timeout 60 podman pull -q "$RUST_IMAGE" >/dev/null 2>&1; then
  debootstrap_root "$work/rust-root" --include=gcc,libc6-dev,make,perl,ca-certificates
  sysroot=$(rustc --print sysroot)
  echo "== this machine's Rust toolchain ($(rustc --version)) into the stand-in"
  mkdir -p "$work/rust-root/usr/local/rust/lib" "$work/rust-root/usr/local/cargo"
  cp -a "$sysroot/bin" "$work/rust-root/usr/local/rust/"
  cp -a "$sysroot"/lib/*.so* "$sysroot/lib/rustlib" "$work/rust-root/usr/local/rust/lib/" 2>/dev/null \
    || cp -a "$sysroot/lib/." "$work/rust-root/usr/local/rust/lib/"
  rm -rf "$work/rust-root/usr/local/rust/lib/rustlib/src"
  # The stand-in trusts what this machine trusts (a TLS-inspecting proxy's authority on the
  # way to crates.io, say), as cargo on this machine does.
  cp /etc/ssl/certs/ca-certificates.crt "$work/rust-root/etc/ssl/certs/ca-certificates.crt"
  tar -C "$work/rust-root" -c . | podman import -q \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'CMD ["bash"]' - "$RUST_IMAGE" >/dev/null
  rm -rf "$work/rust-root"
  echo "made $RUST_IMAGE with debootstrap and the local toolchain"
fi

echo "== podman build (compiles passgate inside the container)"
started=$(date +%s)
# Docker format: the OCI image format has no HEALTHCHECK (podman drops it with a warning).
podman build --format docker --network host -t "$IMAGE" -f Dockerfile . > "$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log"; exit 1; }
echo "built $IMAGE in $(( $(date +%s) - started )) s ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"

echo "== podman run"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Published on a loopback port; where this machine's podman cannot make a bridge network,
# the host's network with the image's address moved to a free port.
if container=$(podman run -d -p "127.0.0.1:$port:8000" "$IMAGE" 2>"$work/run.err"); then
  network="bridge, 127.0.0.1:$port -> 8000"
else
  cat "$work/run.err"
  container=$(podman run -d --network host -e "PASSGATE_BIND=0.0.0.0:$port" "$IMAGE")
  network="host network, PASSGATE_BIND=0.0.0.0:$port"
fi
echo "container ${container:0:12} ($network)"
timeout --signal=TERM --kill-after=20 300 \
  python3 -u "$root/tests/container/container.py" --container "$container" --port "$port"
