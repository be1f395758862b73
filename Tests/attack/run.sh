#!/usr/bin/env bash
# Hostile-LAN attacker against live daemons in network namespaces (issue 9).
#   Tests/attack/run.sh test     pytest: spec checks, honest baselines, attacks withstood today (~1 min)
#   Tests/attack/run.sh probe    measures every attack against today's daemon (~15 min); JSON to $PROBE_JSON
# Needs root (namespaces), iproute2, PyNaCl and pytest (scripts/install-deps.sh installs them) and a built
# estafetted (the newer of .build/release and .build/debug; or $ESTAFETTED). Without root only the wire-library
# tests run; the others are skipped with the reason printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-test}
if ! python3 -c 'import nacl.bindings, pytest' 2>/dev/null; then
    echo "Tests/attack: skipped: needs PyNaCl and pytest (run scripts/install-deps.sh)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Tests/attack: the live-daemon tests are skipped: they need root to create network namespaces"
    [ "$mode" = probe ] && exit 0
fi
case "$mode" in
test) exec python3 -m pytest -q -rs -p no:cacheprovider Tests/attack ;;
probe) exec python3 Tests/attack/probe.py --json "${PROBE_JSON:-/tmp/estafette-attack-probe.json}" ;;
*) echo "usage: $0 [test|probe]" >&2; exit 2 ;;
esac
