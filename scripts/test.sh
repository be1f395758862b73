#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: core unit tests, three daemons on
# loopback multicast, and three hosts in network namespaces (the last two need root; they are skipped
# with a printed reason otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --disable-xctest --skip-build "$@"
