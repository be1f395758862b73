#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: core unit tests, three daemons on
# loopback multicast, and three hosts in network namespaces (the last two need root; they are skipped
# with a printed reason otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/noise-vectors.sh  # published Noise test vectors for the core tests (Debian + PyPI)
swift build --build-tests
swift test --disable-xctest --skip-build "$@"
