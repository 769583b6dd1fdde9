#!/usr/bin/env bash
# Instructions per request+reply, counted by callgrind: both sides of a 64-byte request and its
# reply driven from one thread (client send, server receive, server reply, client receive), so
# nothing ever waits and no system call is made, for the copying API, the in-place API, the C
# API (NtAlpcSendWaitReceivePort), a minimal C ring pair (the floor) and the in-place loop's
# jobs written in C (c-alpc: what ALPC's semantics cost without Swift), in one run; and the
# cost of one datagram sent and received through the in-place batch API.
# Counts are exact and repeatable: the same binary counts the same on any host.
#
#   bash Benchmarks/instructions.sh            # print the counts and their ratios to the floor
#   bash Benchmarks/instructions.sh --check    # also fail above Thresholds/instructions.txt
#
# A count is (instructions of 11,000 iterations - of 1,000) / 10,000, which leaves out start-up
# and connection. valgrind 3.19 cannot read Swift 6.3's debug info: a stripped copy is counted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=false
[ "${1:-}" = "--check" ] && check=true
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }

# (SwiftPM keeps its build plan of a path dependency even when files were added to it: drop it.)
rm -f "$here/.build/release.yaml"
swift build -c release --package-path "$here" --product alpc-instructions >&2
binary="$(swift build -c release --package-path "$here" --show-bin-path)/alpc-instructions"
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$binary"

run_once() { # MODE ITERATIONS -> instructions of one whole run
    local output
    # Swift seeds its hashing at random per process; fixed here, a run's count is the same each time.
    output=$(SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$stripped" "$1" "$2" 2>&1) || { echo "$output" >&2; return 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<< "$output"
}

count() { # MODE ITERATIONS -> the median of three runs' instructions
    # (Start-up differs between runs by up to ~300,000 instructions, with the timing of the
    # connection's accept thread: the median leaves that out.)
    local a b c
    a=$(run_once "$1" "$2") && b=$(run_once "$1" "$2") && c=$(run_once "$1" "$2") || return 1
    printf '%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p
}

declare -A per
for mode in c-ring c-alpc copying in-place c-api; do
    short=$(count "$mode" 1000)
    long=$(count "$mode" 11000)
    per[$mode]=$(( (long - short) / 10000 ))
done
# Datagrams: groups of 32 sent with sendDatagrams and drained with receive(upTo:), counted per
# datagram and compared with one message of the C rings (half a request+reply).
short=$(count datagrams 100)
long=$(count datagrams 1100)
per[datagrams]=$(( (long - short) / (1000 * 32) ))

floor=${per[c-ring]}
semantics=${per[c-alpc]}
printf '%-10s %14s %10s %10s   (per request+reply; datagrams: per datagram, against half the c-ring)\n' \
    "path" "instructions" "x c-ring" "x c-alpc"
failed=0
for mode in c-ring c-alpc copying in-place c-api datagrams; do
    base=$floor
    [ "$mode" = datagrams ] && base=$(awk -v b="$floor" 'BEGIN { print b / 2 }')
    ratio=$(awk -v a="${per[$mode]}" -v b="$base" 'BEGIN { printf "%.1fx", a / b }')
    # (A datagram has none of a request's jobs: it is compared with the ring pair only.)
    against_semantics=""
    case $mode in c-alpc | copying | in-place | c-api)
        against_semantics=$(awk -v a="${per[$mode]}" -v b="$semantics" 'BEGIN { printf "%.2fx", a / b }') ;;
    esac
    line=$(printf '%-10s %14s %10s %10s' "$mode" "${per[$mode]}" "$ratio" "$against_semantics")
    if $check; then
        limit=$(awk -v m="$mode" '$1 == m { print $2 }' "$here/Thresholds/instructions.txt")
        if [ -z "$limit" ]; then
            line="$line   (no threshold)"
        elif [ "${per[$mode]}" -gt "$limit" ]; then
            line="$line   ABOVE the threshold $limit"; failed=1
        else
            line="$line   <= $limit"
        fi
    fi
    echo "$line"
done
exit $failed
