// The libFuzzer entry points. Built with -parse-as-library, this file has no top-level code:
// the program starts in fuzzMain, whose libFuzzer driver calls LLVMFuzzerInitialize once, then
// LLVMFuzzerTestOneInput per input.
// ALPC_FUZZ_TARGET picks the decoder (FuzzTarget); with ALPC_FUZZ_WRITE_SEEDS=DIR the binary
// writes that target's seed inputs to DIR and exits.
@testable import ALPC

#if canImport(Glibc)
import Glibc
#endif

/// The target this process fuzzes, from ALPC_FUZZ_TARGET.
nonisolated(unsafe) var selectedTarget = FuzzTarget.controlPackets

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let name = getenv("ALPC_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
        print("ALPC_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        exit(2)
    }
    selectedTarget = target
    if let directory = getenv("ALPC_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
        for (index, seed) in target.seeds.enumerated() {
            let path = "\(directory)/seed-\(index)"
            guard let file = fopen(path, "wb") else { exit(3) }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        print("wrote \(target.seeds.count) seeds to \(directory)")
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
    selectedTarget.run(bytes)
    return 0
}

/// libFuzzer's driver, for a program whose `main` is not libFuzzer's.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point: SwiftPM links an executable's `main` to `<module>_main` (so that
/// tests can link it), which here hands over to libFuzzer's driver.
@_cdecl("alpc_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in
        fuzzerTestOneInput(UnsafeRawPointer(data), size)
    }
}
