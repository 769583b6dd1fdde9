#!/usr/bin/env bash
# Runs the whole test suite (`swift test`: every test process, the alpc-test-peer children
# included) under a sanitizer, in its own build folder.
#   bash Tests/Sanitizers/run.sh address|thread [swift test arguments...]
# AddressSanitizer checks every access and, at exit, leaks (LeakSanitizer); ThreadSanitizer
# checks the in-process tests' threads for data races. SWIFTALPC_SANITIZER tells tests that
# measure resident memory to skip it (freed memory stays in the sanitizer's quarantine).
set -euo pipefail
cd "$(dirname "$0")/../.."
sanitizer=${1:?usage: run.sh address|thread [swift test arguments...]}
shift
export SWIFTALPC_SANITIZER=$sanitizer
export LSAN_OPTIONS="suppressions=$PWD/Tests/Sanitizers/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/Tests/Sanitizers/tsan.supp"
swift test --sanitize="$sanitizer" --build-path ".build-$sanitizer" "$@"
