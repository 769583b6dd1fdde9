#!/usr/bin/env bash
# Builds libalpc, the NT-shaped C API, and writes its pkg-config files:
#   alpc.pc          -I for <alpc/alpc.h>, -lalpc, and the run paths of libalpc and the Swift runtime
#   alpc-windows.pc  alpc.pc plus the stand-in Windows headers (<windows.h>, <phnt.h>, ...)
# Usage: bash CAPI/build.sh [release|debug]   (release by default)
# Then:  cc app.c $(PKG_CONFIG_PATH=CAPI/.build/release/pkgconfig pkg-config --cflags --libs alpc)
set -euo pipefail
config=${1:-release}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

# SwiftPM names the product libalpcnt.so: the root package's `alpc` executable holds the name
# `alpc` in the package graph. The library's SONAME is libalpc.so, and libalpc.so links to it.
# SwiftPM keeps its build plan of a path dependency even when files were added to it since:
# drop the plan so that the root package's new sources are seen (replanning takes a second).
rm -f "$here/.build/$config.yaml"
swift build -c "$config" --package-path "$here" --product alpcnt
bin=$(swift build -c "$config" --package-path "$here" --show-bin-path)
ln -sf libalpcnt.so "$bin/libalpc.so"

runtime=$(swift -print-target-info | python3 -c 'import json, sys; print(":".join(json.load(sys.stdin)["paths"]["runtimeLibraryPaths"]))')
rpaths="-Wl,-rpath,$bin"
IFS=: read -ra dirs <<< "$runtime"
for dir in "${dirs[@]}"; do rpaths="$rpaths -Wl,-rpath,$dir"; done

mkdir -p "$bin/pkgconfig"
cat > "$bin/pkgconfig/alpc.pc" <<PC
includedir=$root/CShim/include
libdir=$bin

Name: alpc
Description: SwiftALPC: Windows ALPC on Linux, with ntdll's NtAlpc* API
Version: 0.1.0
Cflags: -I\${includedir}
Libs: -L\${libdir} -lalpc $rpaths
PC
cat > "$bin/pkgconfig/alpc-windows.pc" <<PC
compatdir=$root/CShim/compat

Name: alpc-windows
Description: Stand-in Windows headers (windows.h, winternl.h, ntstatus.h, tchar.h, phnt.h) over SwiftALPC
Version: 0.1.0
Requires: alpc
Cflags: -I\${compatdir}
PC
echo "libalpc: $bin/libalpc.so; pkg-config files: $bin/pkgconfig"
