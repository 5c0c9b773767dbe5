#!/usr/bin/env bash
# The .deb, installed for real (SPEC §17): builds it with cargo-deb, installs it with
# `dpkg -i` on this machine, checks the files, their modes and the unit (hardening,
# `systemd-analyze verify` clean, not enabled, never started), then starts the installed
# binary the way passgate.service would — the installed env file, as an unprivileged user
# without capabilities and with no-new-privileges, umask 0077, state in a temp directory —
# and signs in (tests/deb/deb.py), runs the container image's start command and HEALTHCHECK
# the same way, and removes the package again (purge).
#
#   tests/deb/run.sh
#
# Needs root (dpkg). Installs cargo-deb (a locked version) and Debian's systemd (for
# systemd-analyze) and python3 when missing. Refuses to touch a passgate package it did not
# install. Loopback traffic only. The work directory is kept under target/deb/ on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
CARGO_DEB_VERSION=3.8.0

if [ "$(id -u)" -ne 0 ]; then
  echo "deb: needs root (dpkg -i)" >&2
  exit 2
fi

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "== cargo install cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
fi

if dpkg-query -W -f='${Status}' passgate 2>/dev/null | grep -q "installed"; then
  echo "deb: a passgate package is already installed on this machine; not touching it" >&2
  exit 2
fi

# PASSGATE_BIN is not taken: the package is built from target/release/passgate.
unset PASSGATE_BIN
source tests/harness.sh
harness_init deb "the package, dpkg's and the server's logs"
chmod 755 "$work"
installed=""
# The package is purged again whatever happens, if this run installed it.
harness_before_cleanup() {
  if [ -n "$installed" ] && dpkg-query -W -f='${Status}' passgate 2>/dev/null | grep -q "installed"; then
    dpkg --purge passgate >/dev/null 2>&1
  fi
}

fail=0
check() {
  # check "what" command…
  local what=$1
  shift
  if "$@"; then
    echo "PASS $what"
  else
    echo "FAIL $what"
    fail=1
  fi
}

echo "== cargo deb --no-build"
deb=$(cargo deb --no-build --output "$work/" 2>"$work/cargo-deb.log" | tail -n 1)
[ -f "$deb" ] || { cat "$work/cargo-deb.log"; echo "deb: no package built"; exit 1; }
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb --info "$deb" > "$work/info.txt"
dpkg-deb --contents "$deb" > "$work/contents.txt"

echo "== dpkg -i"
installed=yes
dpkg -i "$deb" > "$work/dpkg-install.log" 2>&1 || { cat "$work/dpkg-install.log"; exit 1; }
cat "$work/dpkg-install.log"

unit=$(dpkg -L passgate | grep -E '/systemd/system/passgate\.service$' || true)
mode_of() { stat -c '%a %U:%G' "$1"; }
check "/usr/bin/passgate is installed, 755 root:root" test "$(mode_of /usr/bin/passgate)" = "755 root:root"
check "the installed binary runs" /usr/bin/passgate --version
check "/etc/passgate/passgate.env is 640 root:root" test "$(mode_of /etc/passgate/passgate.env)" = "640 root:root"
check "the env file is a conffile" grep -q '/etc/passgate/passgate.env' /var/lib/dpkg/info/passgate.conffiles
check "every setting in the env file is commented out (defaults)" \
  sh -c '! grep -Ev "^[[:space:]]*(#|$)" /etc/passgate/passgate.env'
for variable in PASSGATE_DATABASE_URL PASSGATE_BIND PASSGATE_PUBLIC_URL PASSGATE_COOKIE_SECURE \
  PASSGATE_TRUSTED_PROXIES PASSGATE_LOG PASSGATE_LOG_FORMAT PASSGATE_METRICS_BIND \
  PASSGATE_AUDIT_FILE PASSGATE_AUDIT_RETENTION_DAYS PASSGATE_REQUIRE_MFA PASSGATE_SECRET_KEY_FILE; do
  check "the env file shows $variable" grep -q "^#$variable=" /etc/passgate/passgate.env
done
check "the unit is installed" test -n "$unit"
check "the logrotate file is installed" test -f /etc/logrotate.d/passgate
check "the documentation is installed" test -f /usr/share/doc/passgate/audit.md
verify=$(systemd-analyze verify "$unit" 2>&1 || echo "exit status $?")
check "systemd-analyze verify is clean${verify:+: $verify}" test -z "$verify"
for directive in "DynamicUser=yes" "StateDirectory=passgate" "NoNewPrivileges=yes" \
  "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service" \
  "CapabilityBoundingSet=" "MemoryDenyWriteExecute=yes" "EnvironmentFile=/etc/passgate/passgate.env" \
  "ExecStart=/usr/bin/passgate serve" "WorkingDirectory=/var/lib/passgate"; do
  check "the unit has $directive" grep -qxF "$directive" "$unit"
done
check "the install did not enable the unit" \
  sh -c '! ls /etc/systemd/system/*.wants/passgate.service >/dev/null 2>&1'
check "the install did not start the service (no state directory)" \
  sh -c '! test -e /var/lib/passgate && ! test -e /var/lib/private/passgate'

echo "== the installed binary, started as the unit would"
run_driver 300 python3 -u "$root/tests/deb/deb.py" --unit "$unit" \
  --env-file /etc/passgate/passgate.env --workdir "$work" || fail=1

echo "== dpkg -i again (an upgrade): the edited settings stay"
echo "PASSGATE_LOG=warn" >> /etc/passgate/passgate.env
dpkg -i "$deb" > "$work/dpkg-upgrade.log" 2>&1 || { cat "$work/dpkg-upgrade.log"; exit 1; }
check "the upgrade keeps the administrator's edit of the env file" \
  grep -qx "PASSGATE_LOG=warn" /etc/passgate/passgate.env
check "and its mode" test "$(mode_of /etc/passgate/passgate.env)" = "640 root:root"

echo "== dpkg --purge"
dpkg --purge passgate > "$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; exit 1; }
installed=""
check "the binary is gone" test ! -e /usr/bin/passgate
check "the unit is gone" test ! -e "$unit"
check "the env file is gone" test ! -e /etc/passgate/passgate.env
check "the package is gone" sh -c '! dpkg-query -W -f="\${Status}" passgate 2>/dev/null | grep -q "ok installed"'

if [ "$fail" -ne 0 ]; then
  echo "deb: FAILED"
  exit 1
fi
echo "deb: every check passed"
