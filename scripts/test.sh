#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: core unit tests, three daemons on
# loopback multicast, three hosts in network namespaces, and the hostile-LAN attacker against live daemons
# (Tests/attack) and the operator tests with the .deb (Tests/ops); the root-only parts are skipped with a printed
# reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/noise-vectors.sh  # published Noise test vectors for the core tests (Debian + PyPI)
swift build --build-tests
swift test --disable-xctest --skip-build "$@"
# The hostile-LAN attacker (Python) against live daemons in network namespaces: root only, skipped otherwise.
# Not run when arguments select Swift tests.
if [ $# -eq 0 ]; then
    Tests/attack/run.sh test
    # The operator's side (Python, pytest): unit, sd_notify, system mode, metrics, the .deb in a Debian root.
    Tests/ops/run.sh
fi
