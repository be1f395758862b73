#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: core unit tests, three daemons on
# loopback multicast, three hosts in network namespaces, and the hostile-LAN attacker against live daemons
# (Tests/attack; the last three need root; they are skipped with a printed reason otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/noise-vectors.sh  # published Noise test vectors for the core tests (Debian + PyPI)
swift build --build-tests
swift test --disable-xctest --skip-build "$@"
# The hostile-LAN attacker (Python) against live daemons in network namespaces: root only, skipped otherwise.
# Not run when arguments select Swift tests.
if [ $# -eq 0 ]; then
    Tests/attack/run.sh test
fi
