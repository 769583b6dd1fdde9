#!/usr/bin/env bash
# The C API's tests, across real processes: builds libalpc (CAPI/build.sh) and the `alpc`
# tool, compiles the C and C++ test programs with gcc, clang, g++ and clang++ (-Wall -Wextra
# -Werror) and again with AddressSanitizer and UndefinedBehaviorSanitizer, then runs C with C,
# C with the Swift tools both ways, the NT semantics suite and the C++ program through the
# stand-in headers. Every run is bounded; ends with "N passed, N failed".
# Usage: bash Tests/CAPI/run.sh [release|debug]   (debug by default)
set -uo pipefail
config=${1:-debug}
root=$(cd "$(dirname "$0")/../.." && pwd)
tests="$root/Tests/CAPI"
out=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
    rm -rf "$out"
}
trap cleanup EXIT

bash "$root/CAPI/build.sh" "$config" || exit 1
swift build -c "$config" --package-path "$root" --product alpc || exit 1
alpc="$(swift build -c "$config" --package-path "$root" --show-bin-path)/alpc"
export PKG_CONFIG_PATH="$(swift build -c "$config" --package-path "$root/CAPI" --show-bin-path)/pkgconfig"

passed=0
failed=0
record() { # NAME STATUS
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS $1"
    else
        failed=$((failed + 1)); echo "FAIL $1 (status $2)"
    fi
}

# The exports match the headers: Swift's generated header for ALPCNT declares every @c function
# with the types Swift gave it; compiled after alpc.h, any difference is "conflicting types".
capi_bin="$(swift build -c "$config" --package-path "$root/CAPI" --show-bin-path)"
generated="$capi_bin/ALPCNT.build/include/ALPCNT-Swift.h"
printf '#define ALPC_NO_LENGTH_OVERLOADS\n#include <alpc/alpc.h>\n#include "%s"\n' "$generated" |
    clang -fsyntax-only -std=gnu11 -Wall -Werror -I"$root/CShim/include" -x c - 2>&1
record "the @c exports have the signatures alpc.h and ntbase.h declare" ${PIPESTATUS[1]}
# ...and every function the headers declare is exported by libalpc.
missing=""
exported=$(nm -D --defined-only "$capi_bin/libalpcnt.so")  # once: grep -q on a pipe would SIGPIPE nm under pipefail
for name in $(grep -hoE '(NTAPI|^ULONG|^NTSTATUS|^PVOID|^int|^const char \*) *[A-Z][A-Za-z0-9]*\(' \
        "$root/CShim/include/alpc/alpc.h" "$root/CShim/include/alpc/ntbase.h" "$root/CShim/include/alpc/ntalpc.h" |
        sed -E 's/.*[ *]([A-Za-z0-9]+)\($/\1/' | sort -u); do
    grep -qw "$name" <<< "$exported" || missing="$missing $name"
done
[ -z "$missing" ] || echo "declared but not exported:$missing"
record "libalpc exports every function the headers declare" "$([ -z "$missing" ] && echo 0 || echo 1)"

strict="-Wall -Wextra -Werror -g"
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
build() { # OUTPUT COMPILER STANDARD FLAGS SOURCE PKG
    local output=$1 compiler=$2 standard=$3 flags=$4 source=$5 package=$6
    # shellcheck disable=SC2046,SC2086
    if "$compiler" "-std=$standard" $strict $flags "$tests/$source" $(pkg-config --cflags --libs "$package") -ldl \
        -o "$out/$output" 2> "$out/$output.log"; then
        record "compile $output ($compiler -std=$standard)" 0
    else
        cat "$out/$output.log"; record "compile $output ($compiler -std=$standard)" 1
    fi
}

build simple_alpc gcc c11 "" simple_alpc.c alpc
build advanced_alpc gcc c11 "" advanced_alpc.c alpc
build semantics-gcc gcc c11 "" semantics.c alpc
build semantics-clang clang c11 "" semantics.c alpc
build cpp_compat-g++ g++ c++17 "" cpp_compat.cpp alpc-windows
build cpp_compat-clang++ clang++ c++17 "" cpp_compat.cpp alpc-windows
build advanced_alpc-asan gcc c11 "$sanitize" advanced_alpc.c alpc
build semantics-asan gcc c11 "$sanitize" semantics.c alpc
build semantics-clang-asan clang c11 "$sanitize" semantics.c alpc
build cpp_compat-asan g++ c++17 "$sanitize" cpp_compat.cpp alpc-windows
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

# Starts SERVER... in the background and waits (10 s at most) until it says its port exists.
start_server() {
    local log=$1; shift
    "$@" > "$log" 2>&1 &
    server=$!
    pids+=("$server")
    for _ in $(seq 100); do
        grep -q "CREATED" "$log" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log"; return 1
}

# Stops the server started last: SIGINT for the Swift tool, otherwise its own exit. Its status.
finish_server() {
    local signal=$1
    [ "$signal" = none ] || kill "-$signal" "$server" 2>/dev/null
    local status=0
    for _ in $(seq 200); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server" 2>/dev/null; then kill -9 "$server"; status=124; fi
    wait "$server" || status=$?
    return $status
}

pair() { # NAME SERVER-STOP SERVER-COMMAND... -- CLIENT-COMMAND...
    local name=$1 stop=$2; shift 2
    local server_command=() client_command=()
    while [ "$1" != "--" ]; do server_command+=("$1"); shift; done
    shift
    client_command=("$@")
    local log="$out/$name.server.log"
    if ! start_server "$log" "${server_command[@]}"; then record "$name" 1; return; fi
    timeout 60 "${client_command[@]}" > "$out/$name.client.log" 2>&1
    local client_status=$?
    finish_server "$stop"
    local server_status=$?
    if [ $client_status -ne 0 ] || [ $server_status -ne 0 ]; then
        echo "--- $name: client $client_status, server $server_status"; cat "$out/$name.client.log" "$log"
    fi
    record "$name" $((client_status + server_status))
}

port() { echo "\\RPC Control\\capi-run-$$-$1"; }

if [ -x "$out/simple_alpc" ]; then
    pair "simple_alpc: C server, C client" none "$out/simple_alpc" server "$(port 1)" -- "$out/simple_alpc" client "$(port 1)"
    pair "simple_alpc: C server, Swift client" none "$out/simple_alpc" server "$(port 2)" -- \
        "$alpc" call "$(port 2)" "Hello world !"
    pair "simple_alpc: Swift server, C client" INT "$alpc" serve "$(port 3)" -- "$out/simple_alpc" client "$(port 3)"
    # alpc serve answers every request, also those whose whole echo no longer fits (4039-4056
    # bytes at the default 0x1000), and --max-message-length raises the connections' maximum.
    pair "alpc serve answers requests of 4030-4056 bytes" INT "$alpc" serve "$(port 8)" -- \
        "$out/simple_alpc" sizes "$(port 8)" 4030 4056
    pair "alpc serve --max-message-length 65535 answers 20000 bytes" INT \
        "$alpc" serve "$(port 9)" --max-message-length 65535 -- "$out/simple_alpc" sizes "$(port 9)" 20000 20000
    pair "alpc serve --max-message-length 65535 answers the largest request (65495 bytes)" INT \
        "$alpc" serve "$(port 10)" --max-message-length 65535 -- "$out/simple_alpc" sizes "$(port 10)" 65495 65495
    # A client's data cannot forge a log line or reach the terminal raw.
    pair "alpc serve prints client data escaped" INT "$alpc" serve "$(port 11)" -- "$out/simple_alpc" forge "$(port 11)"
    log="$out/alpc serve prints client data escaped.server.log"
    ! grep -q '^\[SERV\] forged' "$log" && ! grep -q $'\x1b' "$log" && grep -q 'evil\\n\[SERV\] forged line\\u{1B}' "$log"
    record "alpc serve's log holds the forged line escaped" $?
fi
echo -n "Tempfile data <3" > "$out/file.txt"
if [ -x "$out/advanced_alpc" ]; then
    pair "advanced_alpc and test_alpc: C server, C client" none "$out/advanced_alpc" server "$(port 4)" -- \
        "$out/advanced_alpc" client "$(port 4)"
    pair "advanced_alpc: C server, Swift client with a handle and a view" none "$out/advanced_alpc" server "$(port 5)" -- \
        "$alpc" call "$(port 5)" "some message with a file" --connect-data "Connection request client message" \
        --handle "$out/file.txt" --view "The content of the view :)"
    grep -q "file content: <Tempfile data <3>" "$out/advanced_alpc: C server, Swift client with a handle and a view.server.log" &&
        grep -q "view content: <The content of the view :)>" "$out/advanced_alpc: C server, Swift client with a handle and a view.server.log"
    record "advanced_alpc: the C server read the Swift client's file and view" $?
    pair "advanced_alpc: Swift server, C client" INT "$alpc" serve "$(port 6)" -- "$out/advanced_alpc" sample-client "$(port 6)"
fi
if [ -x "$out/advanced_alpc-asan" ]; then
    pair "advanced_alpc with ASan and UBSan" none "$out/advanced_alpc-asan" server "$(port 7)" -- \
        "$out/advanced_alpc-asan" client "$(port 7)"
fi
# A client whose file never answers (a FUSE file whose reads never complete) does not stall
# `alpc serve`'s other clients: it reads clients' files on threads of its own (issue 10).
if gcc $strict "$tests/fuse_stall.c" -o "$out/fuse_stall" 2> "$out/fuse_stall.log"; then
    mnt=$(mktemp -d)
    "$out/fuse_stall" "$mnt" > "$out/fuse.log" 2>&1 &
    fuse=$!
    pids+=("$fuse")
    for _ in $(seq 50); do grep -qE "READY|UNAVAILABLE" "$out/fuse.log" && break; sleep 0.1; done
    if grep -q READY "$out/fuse.log"; then
        name="alpc serve answers others while a client's file never answers"
        if start_server "$out/stall.server.log" "$alpc" serve "$(port 12)"; then
            # The first request carries the file; alpc serve's read of it never returns.
            timeout 10 "$alpc" call "$(port 12)" "stalled" --handle "$mnt/file" > "$out/stall.first.log" 2>&1
            first=$?
            start=$(date +%s%N)
            timeout 10 "$alpc" call "$(port 12)" "after the stall" --timeout 5 > "$out/stall.second.log" 2>&1
            second=$?
            elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
            grep -q "REQUEST 'after the stall' DONE" "$out/stall.second.log" || second=1
            [ "$elapsed_ms" -lt 3000 ] || second=1
            echo "  second client answered in $elapsed_ms ms (first: status $first)"
            # Ending the file system ends the stuck read; then the server can stop.
            kill -9 "$fuse"; wait "$fuse" 2>/dev/null
            umount -l "$mnt" 2>/dev/null
            finish_server INT
            record "$name" $((first + second))
        else
            record "$name" 1
        fi
    else
        echo "SKIP alpc serve with a file that never answers: $(cat "$out/fuse.log")"
    fi
    kill -9 "$fuse" 2>/dev/null; umount -l "$mnt" 2>/dev/null; rmdir "$mnt" 2>/dev/null
else
    record "compile fuse_stall (gcc)" 1
fi

for program in semantics-gcc semantics-clang semantics-asan semantics-clang-asan cpp_compat-g++ cpp_compat-clang++ cpp_compat-asan; do
    [ -x "$out/$program" ] || continue
    timeout 300 "$out/$program" > "$out/$program.log" 2>&1
    status=$?
    [ $status -eq 0 ] || cat "$out/$program.log"
    grep -E "^(PASS|FAIL) " "$out/$program.log" | sed "s/^/  $program: /"
    record "$program" $status
done

echo "C API: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
