// swift-tools-version:6.1
import PackageDescription

// libalpc: the NT-shaped C API (NtAlpc* and the NT basics around it) as a shared library for C
// and C++ programs, implemented over the Swift library. Its own package, so that Swift users of
// the library never build it. Build it with `bash CAPI/build.sh`, which also writes alpc.pc.
// A path dependency is identified by its folder's name, which depends on where the repository
// was cloned; derive it from this manifest's own location.
let libraryPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "SwiftALPCCAPI",
    products: [
        .library(name: "alpcnt", type: .dynamic, targets: ["ALPCNT"]),
    ],
    dependencies: [
        .package(path: "../"),
    ],
    targets: [
        // Linux calls Swift cannot make directly (variadic syscall, GNU-only declarations).
        .target(name: "CALPCNTSupport", path: "Sources/CALPCNTSupport"),
        // The @c exports declared by CShim/include/alpc/alpc.h and ntbase.h.
        .target(
            name: "ALPCNT",
            dependencies: [.product(name: "ALPC", package: libraryPackage), "CALPCNTSupport"],
            path: "Sources/ALPCNT",
            swiftSettings: [
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("ExistentialAny"),
            ],
            // C programs link with -lalpc (build.sh links libalpc.so to this product).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libalpc.so"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
