// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every decoder of what a peer sends: control packets, slot records with
// their attributes, and segment geometry. Its own package, built with the fuzzer and address
// sanitizers (see run.sh); it reaches the library's internals with @testable import, which
// debug builds allow.
// A path dependency is identified by its folder's name, which depends on where the repository
// was cloned; derive it from this manifest's own location.
let libraryPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "SwiftALPCFuzz",
    dependencies: [
        .package(path: "../")
    ],
    targets: [
        .executableTarget(
            name: "alpc-fuzz",
            dependencies: [.product(name: "ALPC", package: libraryPackage)],
            path: "Sources/alpc-fuzz"
        )
    ],
    swiftLanguageModes: [.v6]
)
