#!/usr/bin/env bash
# The operator tests (issue 13): the systemd unit, sd_notify, system mode, --check-config, metrics, the .deb,
# the OpenRPC description of the API (docs/openrpc.json) against a live daemon.
#   Tests/ops/run.sh            builds the package (scripts/package.sh, a static release build: a few minutes
#                               the first time) and runs pytest on Tests/ops
# ESTAFETTE_SKIP_PACKAGE=1 reuses dist/*.deb as it is (the package tests skip, saying so, when there is none).
# Needs a debug build (swift build) and pytest; root for namespaces and the Debian root (skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c 'import pytest' 2>/dev/null; then
    echo "Tests/ops: skipped: needs pytest (run scripts/install-deps.sh)"
    exit 0
fi
if [ "${ESTAFETTE_SKIP_PACKAGE:-0}" != 1 ]; then
    scripts/package.sh
fi
exec python3 -m pytest -q -rs -p no:cacheprovider Tests/ops
