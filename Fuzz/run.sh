#!/usr/bin/env bash
# Fuzzes every decoder of peer input (Sources/alpc-fuzz/FuzzTarget.swift) with libFuzzer and
# AddressSanitizer, each for SECONDS (default 20), starting from the committed corpus in
# Corpus/<target>. Inputs found along the way go to a scratch directory, not the corpus; a
# crash leaves its input in .build/crashes/ and fails the run (turn it into a test).
#   bash Fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(control-packets slot-records segment-geometry)

# (SwiftPM keeps its build plan of a path dependency even when files were added to it: drop it.)
rm -f .build/debug.yaml
swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "Cannot export local symbol" | tail -2
binary=.build/debug/alpc-fuzz
mkdir -p .build/crashes
failed=0
for target in "${targets[@]}"; do
    scratch=$(mktemp -d)
    log=.build/fuzz-$target.log
    if ALPC_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=4096 \
        -artifact_prefix=".build/crashes/$target-" "$scratch" "Corpus/$target" >"$log" 2>&1; then
        echo "fuzz $target: $(grep -E '^Done' "$log") (corpus $(ls "$scratch" | wc -l) new inputs)"
    else
        echo "fuzz $target: FAILED, see Fuzz/$log and Fuzz/.build/crashes/"
        grep -E "ERROR|Fatal error|SUMMARY" "$log" | head -5
        failed=1
    fi
    rm -rf "$scratch"
done
exit $failed
