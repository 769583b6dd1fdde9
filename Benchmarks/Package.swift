// swift-tools-version:6.1
import PackageDescription

// The package-benchmark suite of SwiftALPC: its own package, so that users of the library never
// fetch package-benchmark. Run from this folder: `swift package benchmark`.
// A path dependency is identified by its folder's name, which depends on where the repository
// was cloned; derive it from this manifest's own location.
let libraryPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "SwiftALPCBenchmarks",
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ALPCBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ALPC", package: libraryPackage),
                "alpc-bench-echo",
            ],
            path: "Benchmarks/ALPCBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Instruction counts per request and reply (instructions.sh runs it under callgrind).
        .executableTarget(
            name: "alpc-instructions",
            dependencies: [.product(name: "ALPC", package: libraryPackage), "CInstructionDrivers"],
            path: "Sources/alpc-instructions"
        ),
        // Its C loops: the ring-pair floor and the NT API (linked from the library's ALPCNT).
        .target(
            name: "CInstructionDrivers",
            dependencies: [.product(name: "ALPCNT", package: libraryPackage)],
            path: "Sources/CInstructionDrivers"
        ),
        // The server process of the cross-process round-trip benchmark.
        .executableTarget(
            name: "alpc-bench-echo",
            dependencies: [.product(name: "ALPC", package: libraryPackage)],
            path: "Sources/alpc-bench-echo"
        ),
    ],
    swiftLanguageModes: [.v6]
)
