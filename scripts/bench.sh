#!/usr/bin/env bash
# Builds the release daemon and benchmark, enables multicast on loopback, and runs every benchmark.
#   scripts/bench.sh                          # estafette-bench all, then the 1,000-node simulation (one seed, then 30)
#   scripts/bench.sh e2e --messages 20000     # any subcommand and options (estafette-bench --help)
# Figures go to stdout (and, with BENCH_OUT=file, to that file too); progress to stderr.
# Needs root for `ip link set lo multicast on` (skipped when the flag is already set).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product estafetted >&2
swift build -c release --product estafette-bench >&2
swift build -c release --product estafette-sim >&2

if ! ip link show lo | grep -q MULTICAST; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: loopback needs the MULTICAST flag; run as root or: sudo ip link set lo multicast on" >&2
        exit 1
    fi
    ip link set lo multicast on
fi

bin="$(swift build -c release --show-bin-path)"
if [ $# -eq 0 ]; then
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
