#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: core unit tests, three daemons on
# loopback multicast, three hosts in network namespaces, and the hostile-LAN attacker against live daemons
# (Tests/attack) and the operator tests with the .deb (Tests/ops); the root-only parts are skipped with a printed
# reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs one stage in its own process group under a deadline. A stage that hangs is killed with everything it
# started, after printing its process tree (what it waits for), and fails the run: a hang must show up as a
# readable failure, never as CI running out of time.
stage() {
    local name=$1 limit=$2
    shift 2
    local t0 rc=0
    t0=$(date +%s)
    setsid --wait "$@" &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if (($(date +%s) - t0 > limit)); then
            echo "test.sh: $name still running after $limit s: killed. Its processes:" >&2
            ps -o pid,ppid,etimes,stat,args -g "$pid" >&2 || true
            kill -KILL -- "-$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            return 1
        fi
        sleep 2
    done
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "test.sh: $name failed (status $rc) after $(($(date +%s) - t0)) s" >&2
        return "$rc"
    fi
    echo "test.sh: $name passed in $(($(date +%s) - t0)) s"
}

scripts/install-deps.sh --tests
scripts/noise-vectors.sh  # published Noise test vectors for the core tests (Debian + PyPI)
swift build --build-tests
stage "swift test" 1800 swift test --disable-xctest --skip-build "$@"
# The hostile-LAN attacker (Python) against live daemons in network namespaces: root only, skipped otherwise.
# Not run when arguments select Swift tests.
if [ $# -eq 0 ]; then
    stage Tests/attack 1800 Tests/attack/run.sh test
    # The operator's side (Python, pytest): unit, sd_notify, system mode, metrics, the .deb in a Debian root.
    stage Tests/ops 2400 Tests/ops/run.sh
fi
