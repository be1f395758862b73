#!/usr/bin/env bash
# Builds the release daemon and benchmark, enables multicast on loopback, and runs every benchmark.
#   scripts/bench.sh                          # estafette-bench all, then the 1,000-node simulation (one seed, then 30)
#   scripts/bench.sh e2e --messages 20000     # any subcommand and options (estafette-bench --help)
#   scripts/bench.sh compare 8525ae6          # e2e of this tree against a git revision, interleaved, one run
#   scripts/bench.sh compare HEAD~1 --rounds 5 --messages 20000   # e2e options after the revision
# Figures go to stdout (and, with BENCH_OUT=file, to that file too); progress to stderr.
# Needs root for `ip link set lo multicast on` (skipped when the flag is already set).
set -euo pipefail
cd "$(dirname "$0")/.."

# compare REV: the revision's daemon is built in a scratch worktree (kept for the next run, keyed by the commit).
baseline_daemon=""
if [ "${1:-}" = "compare" ]; then
    if [ $# -lt 2 ]; then
        echo "bench: usage: scripts/bench.sh compare <git-rev> [e2e options]" >&2
        exit 1
    fi
    rev="$(git rev-parse --verify "$2^{commit}")"
    shift 2
    base_dir="${BENCH_BASELINE_DIR:-${TMPDIR:-/tmp}/estafette-bench-baseline-${rev:0:12}}"
    if [ ! -d "$base_dir" ]; then
        git worktree add --detach "$base_dir" "$rev" >&2
    fi
    (cd "$base_dir" && swift build -c release --product estafetted >&2)
    baseline_daemon="$(cd "$base_dir" && swift build -c release --show-bin-path)/estafetted"
fi

swift build -c release --product estafetted >&2
swift build -c release --product estafette-bench >&2
if [ $# -eq 0 ] && [ -z "$baseline_daemon" ]; then
    swift build -c release --product estafette-sim >&2
fi

if ! ip link show lo | grep -q MULTICAST; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: loopback needs the MULTICAST flag; run as root or: sudo ip link set lo multicast on" >&2
        exit 1
    fi
    ip link set lo multicast on
fi

bin="$(swift build -c release --show-bin-path)"
if [ -n "$baseline_daemon" ]; then
    "$bin/estafette-bench" e2e --daemon "$bin/estafetted" --baseline-daemon "$baseline_daemon" "$@" \
        | tee ${BENCH_OUT:+"$BENCH_OUT"}
elif [ $# -eq 0 ]; then
    {
        "$bin/estafette-bench" all
        echo "## simulation: 1,000 nodes on one LAN segment, 5 % loss per receiver, 50 envelopes"
        "$bin/estafette-sim" --scenario lossy-lan --nodes 1000 --loss 0.05 --seed 12345 | sed 's/^/sim.1000./'
        echo "## simulation: the same for 30 seeds drawn from 12345 (transmissions per envelope on each run's busiest segment)"
        "$bin/estafette-sim" --scenario lossy-lan --nodes 1000 --loss 0.05 --seed 12345 --seeds 30 | sed 's/^/sim.1000.sweep./'
    } | tee ${BENCH_OUT:+"$BENCH_OUT"}
else
    "$bin/estafette-bench" "$@" | tee ${BENCH_OUT:+"$BENCH_OUT"}
fi
