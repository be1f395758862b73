#!/usr/bin/env bash
# Installs the system packages Estafette needs to build and run, if any are missing; with --tests, also what the
# test suite needs (scripts/test.sh passes it).
# Debian/Ubuntu only. Needs root (or sudo). Swift itself must already be installed (swift.org toolchain).
set -euo pipefail
tests=0
[ "${1:-}" = --tests ] && tests=1

packages=(libsodium-dev libsqlite3-dev libqrencode-dev pkg-config iproute2 socat)
if [ "$tests" = 1 ]; then
    packages+=(faketime)  # Tests/attack: the clock test
    packages+=(zbar-tools)  # zbarimg: the invite QR code test decodes what the terminal shows
    packages+=(nftables)  # the LAN paths test filters multicast on its bridge, as an access point does
    packages+=(sqlite3)  # the power-cut test runs PRAGMA integrity_check after every SIGKILL
    # Packaging and its tests (scripts/package.sh, Tests/ops): dpkg-deb is always there; these are not.
    packages+=(lintian debootstrap systemd-container)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "estafette: installing missing packages: ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "estafette: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ "$tests" = 1 ]; then
# Python for the hostile-LAN attacker (Tests/attack): PyNaCl (libsodium bindings) and pytest. From PyPI into the
# python3 on PATH; where pip may not install (Debian's own python3, PEP 668), from Debian's packages. The suite
# must run: a missing module is an error here, never a silently skipped test.
python_modules_ok() { python3 -c 'import nacl.bindings, pytest' 2>/dev/null; }
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}
command -v python3 >/dev/null || apt_install python3
if ! python_modules_ok; then
    echo "estafette: installing PyNaCl and pytest for Tests/attack" >&2
    python3 -m pip install -q pynacl pytest >&2 2>/dev/null || apt_install python3-nacl python3-pytest
    python_modules_ok || {
        echo "estafette: cannot install PyNaCl and pytest for $(command -v python3); Tests/attack needs them" >&2
        exit 1
    }
fi
# prometheus_client's text parser, for the metrics test (Tests/ops).
if ! python3 -c 'import prometheus_client.parser' 2>/dev/null; then
    echo "estafette: installing prometheus_client for Tests/ops" >&2
    python3 -m pip install -q prometheus_client >&2 2>/dev/null || apt_install python3-prometheus-client
    python3 -c 'import prometheus_client.parser' 2>/dev/null || {
        echo "estafette: cannot install prometheus_client for $(command -v python3); Tests/ops needs it" >&2
        exit 1
    }
fi
# jsonschema, for the API description test (Tests/ops/test_openrpc.py: docs/openrpc.json against the daemon).
if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "estafette: installing jsonschema for Tests/ops" >&2
    python3 -m pip install -q jsonschema >&2 2>/dev/null || apt_install python3-jsonschema
    python3 -c 'import jsonschema' 2>/dev/null || {
        echo "estafette: cannot install jsonschema for $(command -v python3); Tests/ops needs it" >&2
        exit 1
    }
fi
fi

if ! command -v swift >/dev/null; then
    for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        [ -x "$d/swift" ] && { echo "estafette: swift is in $d but not on PATH; add it: export PATH=$d:\$PATH" >&2; break; }
    done
    echo "estafette: Swift 6 is required: https://www.swift.org/install/linux/" >&2
    exit 1
fi
