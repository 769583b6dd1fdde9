#if canImport(Glibc)
import Glibc
#endif

/// What a process holds, read from /proc: its descriptors, its mappings of SwiftALPC's shared
/// memory (connection segments and sections) and its resident memory.
///
/// Other mappings are not counted: threads that have ended leave their stacks in glibc's cache
/// and their malloc arenas behind, which is no leak.
struct ProcessResources: Equatable, CustomStringConvertible {
    var descriptors: Int
    /// Mappings of memfds named "swiftalpc-...".
    var mappings: Int
    var residentKiB: Int

    /// What process `pid` holds now (this process by default).
    init(of pid: pid_t? = nil) {
        let root = pid.map { "/proc/\($0)" } ?? "/proc/self"
        descriptors = Self.entries(in: "\(root)/fd")
        mappings = Self.lines(of: "\(root)/maps") { $0.contains("swiftalpc") }
        residentKiB = 0
        _ = Self.lines(of: "\(root)/status") { line in
            if line.hasPrefix("VmRSS:") { residentKiB = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0 }
            return false
        }
    }

    var description: String { "\(descriptors) descriptors, \(mappings) shared mappings, \(residentKiB / 1024) MiB resident" }

    private static func entries(in path: String) -> Int {
        guard let directory = opendir(path) else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        // opendir's own descriptor, when the directory is this process's.
        return path.hasPrefix("/proc/self") ? count - 1 : count
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
