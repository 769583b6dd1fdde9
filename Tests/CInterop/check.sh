#!/usr/bin/env bash
# Compiles C programs against the public headers with gcc and clang (-Wall -Wextra -Werror,
# C11 and C++17) and runs them; checks that every public header, and every stand-in Windows
# header, compiles alone in strict C11 and C++17. Run from the package root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for cc in gcc clang; do
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I"$root/CShim/include" \
        "$root/Tests/CInterop/header_check.c" "$root/CShim/status.c" "$root/CShim/helpers.c" -o "$out/check-$cc"
    "$out/check-$cc"
    # Every public header compiles on its own in strict C11 (no _GNU_SOURCE) and C++17, and so
    # does every stand-in Windows header.
    for header in "$root"/CShim/include/alpc/*.h; do
        echo "#include <alpc/$(basename "$header")>" | "$cc" -std=c11 -Wall -Wextra -Werror -pedantic \
            -I"$root/CShim/include" -x c -fsyntax-only -
        echo "#include <alpc/$(basename "$header")>" | "$cc" -std=c++17 -Wall -Wextra -Werror \
            -I"$root/CShim/include" -x c++ -fsyntax-only -
    done
    for header in "$root"/CShim/compat/*.h; do
        for language in c c++; do
            standard=c11; [ "$language" = c++ ] && standard=c++17
            echo "#include <$(basename "$header")>" | "$cc" -std=$standard -Wall -Wextra -Werror \
                -I"$root/CShim/include" -I"$root/CShim/compat" -x $language -fsyntax-only -
        done
    done
done
gcc -std=c11 -Wall -Wextra -Werror -I"$root/CShim/include" -c "$root/CShim/status.c" -o "$out/status.o"
gcc -std=c11 -Wall -Wextra -Werror -I"$root/CShim/include" -c "$root/CShim/helpers.c" -o "$out/helpers.o"
g++ -std=c++17 -Wall -Wextra -Werror -I"$root/CShim/include" -x c++ "$root/Tests/CInterop/header_check.c" \
    -x none "$out/status.o" "$out/helpers.o" -o "$out/check-cpp"
"$out/check-cpp"
echo "C interop: gcc, clang and g++ compile the headers with -Wall -Wextra -Werror"
