#if canImport(Glibc)
import Glibc
#endif

/// What a process holds, read from /proc: its descriptors, its mappings of SwiftALPC's shared
/// memory (connection segments and sections) and its resident memory.
///
/// Other mappings are not counted: threads that have ended leave their stacks in glibc's cache
/// and their malloc arenas behind, which is no leak.
struct ProcessResources: Equatable, CustomStringConvertible {
    /// The open descriptors that count: all but the Swift runtime's timerfds.
    ///
    /// libdispatch's manager thread makes a timerfd the first time it arms a timer of its own
    /// (its worker-pool monitor), at a moment that depends on load, and keeps it for the life of
    /// the process. SwiftALPC never makes one, so a timerfd that appears is never its leak.
    var descriptors: Int { descriptorTargets.count { $0 != Self.runtimeTimer } }
    /// What each open descriptor refers to ("socket:[123]", "/memfd:swiftalpc-connection (deleted)", ...).
    var descriptorTargets: [String]

    private static let runtimeTimer = "anon_inode:[timerfd]"
    /// Mappings of memfds named "swiftalpc-...".
    var mappings: Int
    var residentKiB: Int

    /// What process `pid` holds now (this process by default).
    init(of pid: pid_t? = nil) {
        let root = pid.map { "/proc/\($0)" } ?? "/proc/self"
        descriptorTargets = Self.targets(in: "\(root)/fd")
        mappings = Self.lines(of: "\(root)/maps") { $0.contains("swiftalpc") }
        residentKiB = 0
        _ = Self.lines(of: "\(root)/status") { line in
            if line.hasPrefix("VmRSS:") { residentKiB = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0 }
            return false
        }
    }

    var description: String { "\(descriptors) descriptors, \(mappings) shared mappings, \(residentKiB / 1024) MiB resident" }

    /// Descriptors in `self` that `baseline` did not hold, by what they refer to.
    func descriptorsAdded(since baseline: ProcessResources) -> [String] {
        var remaining = baseline.descriptorTargets
        return descriptorTargets.filter { target in
            guard target != Self.runtimeTimer else { return false }
            guard let index = remaining.firstIndex(of: target) else { return true }
            remaining.remove(at: index)
            return false
        }
    }

    /// What each descriptor listed in the /proc directory `path` refers to.
    private static func targets(in path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var targets: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            // opendir's own descriptor, when the directory is this process's.
            if path.hasPrefix("/proc/self") && fd == own { continue }
            var buffer = [CChar](repeating: 0, count: 512)
            let length = readlink("\(path)/\(name)", &buffer, buffer.count - 1)
            targets.append(length < 0 ? "?" : String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return targets.sorted()
    }

    /// The number of lines of `path` for which `body` is true.
    private static func lines(of path: String, _ body: (String) -> Bool) -> Int {
        guard let file = fopen(path, "r") else { return -1 }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        var count = 0
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if body(line) { count += 1 }
        }
        return count
    }
}
