#!/usr/bin/env bash
# Installs the system packages Estafette needs to build, run and test, if any are missing.
# Debian/Ubuntu only. Needs root (or sudo). Swift itself must already be installed (swift.org toolchain).
set -euo pipefail

packages=(libsodium-dev libsqlite3-dev pkg-config iproute2 socat)
# Packaging and its tests (scripts/package.sh, Tests/ops): dpkg-deb is always there; these are not.
packages+=(lintian debootstrap systemd-container)

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

# Python for the hostile-LAN attacker (Tests/attack): PyNaCl (libsodium bindings) and pytest; for the operator
# tests (Tests/ops): prometheus_client's text parser.
if command -v python3 >/dev/null; then
    if ! python3 -c 'import nacl.bindings, pytest' 2>/dev/null; then
        echo "estafette: installing PyNaCl and pytest for Tests/attack" >&2
        python3 -m pip install -q pynacl pytest >&2 ||
            echo "estafette: could not install PyNaCl/pytest; Tests/attack will be skipped" >&2
    fi
    if ! python3 -c 'import prometheus_client.parser' 2>/dev/null; then
        echo "estafette: installing prometheus_client for Tests/ops" >&2
        python3 -m pip install -q prometheus_client >&2 ||
            echo "estafette: could not install prometheus_client; the metrics test will be skipped" >&2
    fi
else
    echo "estafette: no python3; Tests/attack will be skipped" >&2
fi

if ! command -v swift >/dev/null; then
    for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        [ -x "$d/swift" ] && { echo "estafette: swift is in $d but not on PATH; add it: export PATH=$d:\$PATH" >&2; break; }
    done
    echo "estafette: Swift 6 is required: https://www.swift.org/install/linux/" >&2
    exit 1
fi
