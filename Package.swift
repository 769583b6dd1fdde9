// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SwiftALPC",
    products: [
        .library(name: "ALPC", targets: ["ALPC"]),
        // The NT-shaped C API as a Swift module; C programs link it as libalpc (CAPI/build.sh).
        .library(name: "ALPCNT", targets: ["ALPCNT"]),
        // An AlpcServer as a swift-service-lifecycle Service.
        .library(name: "ALPCService", targets: ["ALPCService"]),
        .executable(name: "alpc", targets: ["alpc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // The Windows x64 ALPC wire format and the C API header, usable from C and Swift.
        .target(
            name: "CALPC",
            path: "CShim",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The Linux system-call helpers and the shared segment's layout: private to the library.
        .target(
            name: "CALPCSystem",
            dependencies: ["CALPC"],
            path: "Sources/CALPCSystem",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The Swift library: wire views, shared memory, transport, ports.
        .target(
            name: "ALPC",
            dependencies: [
                "CALPC",
                "CALPCSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/ALPC"
        ),
        // An AlpcServer run as a swift-service-lifecycle Service, with graceful shutdown.
        .target(
            name: "ALPCService",
            dependencies: [
                "ALPC",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ALPCService"
        ),
        // The C API: the @c exports that alpc.h and ntbase.h declare, over the Swift library.
        .target(
            name: "ALPCNT",
            dependencies: ["ALPC", "CALPC", "CALPCNTSupport"],
            path: "Sources/ALPCNT"
        ),
        // Linux calls behind the C API that Swift cannot make directly (variadic syscall,
        // GNU-only declarations), and the thread-local last Win32 error.
        .target(name: "CALPCNTSupport", path: "Sources/CALPCNTSupport"),
        // The other transports `alpc bench` compares with, written in C so that they are
        // honest, and the C side of its alpc-c round trips through NtAlpcSendWaitReceivePort.
        .target(
            name: "CBaselines",
            dependencies: ["CALPC"],
            path: "Sources/CBaselines",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The commands of the `alpc` tool, as a library so that tests can run them.
        .target(
            name: "AlpcCommands",
            dependencies: [
                "ALPC",
                "ALPCNT",
                "ALPCService",
                "CBaselines",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/AlpcCommands"
        ),
        .executableTarget(
            name: "alpc",
            dependencies: ["AlpcCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/alpc"
        ),
        // The other process of the multi-process tests.
        .executableTarget(
            name: "alpc-test-peer",
            dependencies: [
                "ALPC",
                "ALPCService",
                "CALPC",
                "CALPCSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/alpc-test-peer"
        ),
        .testTarget(
            name: "ALPCTests",
            dependencies: [
                "ALPC",
                "ALPCService",
                "CALPC",
                "CALPCSystem",
                "alpc-test-peer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ALPCTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Standard settings for every Swift target.
for target in package.targets where [.regular, .executable, .test].contains(target.type) {
    if ["CALPC", "CALPCSystem", "CALPCNTSupport", "CBaselines"].contains(target.name) { continue }
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("ExistentialAny"),
    ]
}
