#if canImport(Glibc)
import Glibc
#endif

/// Where the two processes of every measurement run.
enum Placement: String, Sendable {
    /// Each side on its own CPU: the bench process on the first allowed CPU, the peer on the
    /// second. Spelled "any" in JSON (no `--same-core`); the table says "separate CPUs".
    case separateCPUs = "any"
    /// Both sides on the first allowed CPU (`--same-core`).
    case sameCore = "same-core"

    /// The value of the JSON `placement` field.
    var jsonName: String { rawValue }
}

/// The CPUs the requester (the bench process) and the responder (the peer) run on.
struct CPUAssignment: Sendable, CustomStringConvertible {
    let placement: Placement
    let requester: Int32
    let responder: Int32

    /// Chooses the CPUs for `placement` from the calling thread's affinity mask: the lowest
    /// one, and for separate CPUs the next one too.
    static func choose(_ placement: Placement) throws(BenchError) -> CPUAssignment {
        let allowed = try CPUAffinity.allowedCPUs()
        guard let first = allowed.first else {
            throw .placement("the process may run on no CPU at all")
        }
        switch placement {
        case .sameCore:
            return CPUAssignment(placement: placement, requester: first, responder: first)
        case .separateCPUs:
            guard allowed.count >= 2 else {
                throw .placement("separate CPUs need two CPUs, but this process may only run on CPU \(first); use --same-core")
            }
            return CPUAssignment(placement: placement, requester: first, responder: allowed[1])
        }
    }

    var description: String {
        switch placement {
        case .separateCPUs: "separate CPUs (bench process on CPU \(requester), peer on CPU \(responder))"
        case .sameCore: "same core (both processes on CPU \(requester))"
        }
    }
}

/// Thread CPU affinity through sched_getaffinity / sched_setaffinity.
///
/// Both are GNU extensions that the Glibc module does not declare, so they are looked up with
/// dlsym; `cpu_set_t` is handled as a plain bit array, since the CPU_* macros do not import.
enum CPUAffinity {
    private typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// Calls libc's `name` (sched_getaffinity or sched_setaffinity) for the calling thread.
    private static func call(_ name: String, _ set: inout cpu_set_t) -> Int32 {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), name) else {
            errno = ENOSYS
            return -1
        }
        let function = unsafeBitCast(symbol, to: AffinityCall.self)
        return withUnsafeMutableBytes(of: &set) { function(0, $0.count, $0.baseAddress) }
    }

    /// The CPUs the calling thread may run on, in increasing order.
    static func allowedCPUs() throws(BenchError) -> [Int32] {
        var set = cpu_set_t()
        guard call("sched_getaffinity", &set) == 0 else {
            throw .placement("sched_getaffinity failed: \(ErrnoName.describe(errno))")
        }
        var cpus: [Int32] = []
        withUnsafeBytes(of: &set) { bytes in
            for (index, byte) in bytes.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (1 << bit) != 0 {
                    cpus.append(Int32(index * 8 + bit))
                }
            }
        }
        return cpus
    }

    /// Pins the calling thread (and what it spawns later) to `cpu`.
    static func pinCurrentThread(to cpu: Int32) throws(BenchError) {
        guard cpu >= 0, Int(cpu) < MemoryLayout<cpu_set_t>.size * 8 else {
            throw .placement("CPU \(cpu) does not exist")
        }
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { bytes in
            bytes[Int(cpu) / 8] = 1 << UInt8(cpu % 8)
        }
        guard call("sched_setaffinity", &set) == 0 else {
            throw .placement("cannot pin to CPU \(cpu): \(ErrnoName.describe(errno))")
        }
    }

    /// The calling thread's mask, to give back with `restore`.
    static func currentMask() -> cpu_set_t? {
        var set = cpu_set_t()
        return call("sched_getaffinity", &set) == 0 ? set : nil
    }

    /// Gives the calling thread `mask` back.
    static func restore(_ mask: cpu_set_t) {
        var mask = mask
        _ = call("sched_setaffinity", &mask)
    }
}
