#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, with address sanitizer) and runs each for a given time.
#   scripts/fuzz.sh                      # every target, 60 s each
#   scripts/fuzz.sh 600 datagram coded   # these targets, 10 minutes each
#   scripts/fuzz.sh --make-seeds         # rewrite the committed seeds (Fuzz/corpus/<target>/; crash-* stay)
#   scripts/fuzz.sh --list               # the target names
# New interesting inputs go to a working corpus outside git (FUZZ_WORK, default Fuzz/.work/<target>/corpus);
# the committed seeds are read, never written. Each run is added to a ledger (FUZZ_LEDGER, default
# FUZZ_WORK/executions.tsv; the campaign's committed ledger is Fuzz/campaign.tsv), and the executions per target
# (this run, and all runs recorded there) are printed at the end.
# Exits non-zero when a target finds a crash, a timeout, a leak or an out-of-memory: the input is kept in
# FUZZ_WORK/<target>/artifacts/ (reproduce: scripts/fuzz.sh --repro FILE TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(datagram envelope reassembler coded mesh-node rpc-line config bundle relay-record)
work="${FUZZ_WORK:-$PWD/Fuzz/.work}"
mode=run
case "${1:-}" in
    --make-seeds) mode=seeds; shift ;;
    --list) printf '%s\n' "${targets_all[@]}"; exit 0 ;;
    --repro) mode=repro; shift ;;
esac

# Swift's own backtracer would catch the fuzzer's crash first (and can hang): leave crashes to libFuzzer.
# Deterministic hashing: dictionary order, and so a crash, repeats from the same input.
export SWIFT_BACKTRACE=enable=no
export SWIFT_DETERMINISTIC_HASHING=1
# No allocation stacks and a small quarantine: a third faster, and far less memory. A report's allocation stack
# is then missing: --repro runs the input again with them.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0:quarantine_size_mb=16}"

# SwiftPM passes `--sanitize fuzzer --sanitize address` to swiftc as two flags, of which the driver keeps only the
# last: the Swift code would get no coverage instrumentation. The combined flag, last, keeps both.
build_flags=(--package-path Fuzz -c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address)

# The root package is a path dependency: SwiftPM reuses its cached build plan, and would not see a source file
# added to it since. Dropping the plan makes it look again (a few seconds).
rm -f Fuzz/.build/*/release/description.json

start=$SECONDS
echo "fuzz: building (release, -sanitize=fuzzer,address) ..." >&2
swift build "${build_flags[@]}" >&2
echo "fuzz: build took $((SECONDS - start)) s" >&2
bin="$(swift build "${build_flags[@]}" --show-bin-path)"

if [ "$mode" = seeds ]; then
    for t in "${targets_all[@]}"; do
        # Inputs named crash-* reproduce fixed crashes: they stay.
        mkdir -p "Fuzz/corpus/$t"
        find "Fuzz/corpus/$t" -type f ! -name 'crash-*' -delete
        FUZZ_MAKE_SEEDS="Fuzz/corpus/$t" "$bin/fuzz-$t"
    done
    exit 0
fi

if [ "$mode" = repro ]; then
    file="$1"
    target="$2"
    ASAN_OPTIONS=detect_leaks=0 exec "$bin/fuzz-$target" -runs=1 "$file"
fi

seconds=60
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
fi
targets=("$@")
((${#targets[@]})) || targets=("${targets_all[@]}")

mkdir -p "$work"
ledger="${FUZZ_LEDGER:-$work/executions.tsv}"
failed=()
summary=()
for t in "${targets[@]}"; do
    [ -x "$bin/fuzz-$t" ] || { echo "fuzz: no target '$t' (scripts/fuzz.sh --list)" >&2; exit 2; }
    corpus="$work/$t/corpus"
    artifacts="$work/$t/artifacts"
    mkdir -p "$corpus" "$artifacts"
    log="$work/$t/last.log"
    dict=()
    [ -f "Fuzz/dict/$t.dict" ] && dict=("-dict=Fuzz/dict/$t.dict")
    echo "fuzz: $t for $seconds s (log: $log)" >&2
    rc=0
    touch "$work/$t/started"
    "$bin/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "Fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log" | tail -1)
    rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log" | tail -1)
    execs=${execs:-0}
    printf '%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" "$seconds" "$execs" >>"$ledger"
    total=$(awk -F'\t' -v t="$t" '$2 == t { s += $4 } END { print s + 0 }' "$ledger")
    inputs=$(find "$corpus" -type f | wc -l)
    summary+=("$(printf '%-12s %12s execs  %8s exec/s  %12s total  %6s corpus' "$t" "$execs" "${rate:-0}" "$total" "$inputs")")
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        echo "fuzz: $t FAILED (exit $rc); its input is kept in $artifacts/:" >&2
        find "$artifacts" -type f -newer "$work/$t/started" | while read -r f; do
            echo "  $(basename "$f") (base64): $(head -c 4096 "$f" | base64 -w0)" >&2
        done
        grep -E "fuzz invariant broken|ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error|SUMMARY" "$log" | head -5 >&2 || true
    fi
done

echo "fuzz: executions per target (total: every run recorded in $ledger)"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "fuzz: failures in: ${failed[*]}" >&2
    exit 1
fi
