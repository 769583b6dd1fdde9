#!/usr/bin/env bash
# Compiles C programs against the public headers with gcc and clang (-Wall -Wextra -Werror,
# C11 and C++17) and runs them. Run from the package root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for cc in gcc clang; do
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I"$root/CShim/include" \
        "$root/Tests/CInterop/header_check.c" "$root/CShim/status.c" -o "$out/check-$cc"
    "$out/check-$cc"
    # Every header compiles on its own.
    for header in "$root"/CShim/include/alpc/*.h; do
        echo "#include <alpc/$(basename "$header")>" | "$cc" -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
            -I"$root/CShim/include" -x c -fsyntax-only -
    done
done
gcc -std=c11 -Wall -Wextra -Werror -I"$root/CShim/include" -c "$root/CShim/status.c" -o "$out/status.o"
g++ -std=c++17 -Wall -Wextra -Werror -I"$root/CShim/include" -x c++ "$root/Tests/CInterop/header_check.c" \
    -x none "$out/status.o" -o "$out/check-cpp"
"$out/check-cpp"
echo "C interop: gcc, clang and g++ compile the headers with -Wall -Wextra -Werror"
