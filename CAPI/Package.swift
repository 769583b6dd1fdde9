// swift-tools-version:6.1
import PackageDescription

// libalpc: the NT-shaped C API (NtAlpc* and the NT basics around it, the root package's ALPCNT
// module) as a shared library for C and C++ programs. Its own package because the root
// package's `alpc` executable holds the product name `alpc`; the product is libalpcnt.so, with
// the SONAME libalpc.so. Build it with `bash CAPI/build.sh`, which also writes alpc.pc.
// A path dependency is identified by its folder's name, which depends on where the repository
// was cloned; derive it from this manifest's own location.
let libraryPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "SwiftALPCCAPI",
    products: [
        .library(name: "alpcnt", type: .dynamic, targets: ["AlpcSharedLibrary"]),
    ],
    dependencies: [
        .package(path: "../"),
    ],
    targets: [
        .target(
            name: "AlpcSharedLibrary",
            dependencies: [.product(name: "ALPCNT", package: libraryPackage)],
            path: "Sources/AlpcSharedLibrary",
            // C programs link with -lalpc (build.sh links libalpc.so to this product).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libalpc.so"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
