// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SwiftALPC",
    products: [
        .library(name: "ALPC", targets: ["ALPC"]),
    ],
    targets: [
        // The Windows x64 ALPC wire format and the C API header, usable from C and Swift.
        .target(
            name: "CALPC",
            path: "CShim",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The Swift library: wire views, shared memory, transport, ports.
        .target(
            name: "ALPC",
            dependencies: ["CALPC"],
            path: "Sources/ALPC"
        ),
        .testTarget(
            name: "ALPCTests",
            dependencies: ["ALPC", "CALPC"],
            path: "Tests/ALPCTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Standard settings for every Swift target.
for target in package.targets where target.type != .system && target.type != .plugin && target.name != "CALPC" {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("ExistentialAny"),
    ]
}
