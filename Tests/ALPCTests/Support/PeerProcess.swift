import CALPC
import CALPCSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A child process running `alpc-test-peer`, with its standard output read line by line.
///
/// Every wait has a timeout, and the process is killed and reaped when the value is dropped,
/// so no test leaves a process behind.
final class PeerProcess {
    let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    private(set) var lines: [String] = []
    private var reaped = false
    /// How many lines `nextLine` has looked at.
    private var nextCursor = 0

    /// Held while a peer is spawned.
    private static let spawnLock = NSLockLike()

    /// The built `alpc-test-peer`, next to the test bundle.
    static var executablePath: String {
        var path = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &path, path.count - 1)
        let exe = String(decoding: path[0..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/alpc-test-peer"
    }

    /// Starts the peer with `arguments`.
    init(_ arguments: [String]) throws {
        // Peers start one at a time, so that a peer spawned by another test never inherits this
        // pipe before it is close-on-exec (it would hide this peer's end of output).
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw PeerError.spawn(errno) }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        let argv = ([Self.executablePath] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        // The peer starts with no signal blocked and default dispositions, whatever this
        // thread's mask: its alarm deadline must fire.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGALRM, SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let rc = posix_spawn(&child, Self.executablePath, &actions, &attributes, argv, environ)
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pipeFDs[0])
            throw PeerError.spawn(rc)
        }
        pid = child
        output = pipeFDs[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        kill(signal: SIGKILL)
        close(output)
    }

    /// Waits up to `timeout` seconds for a line starting with `prefix`; returns it, or nil.
    @discardableResult
    func waitForLine(prefix: String, timeout: Double = 10) -> String? {
        let deadline = now() + timeout
        var checked = 0
        while true {
            while checked < lines.count {
                defer { checked += 1 }
                if lines[checked].hasPrefix(prefix) { return lines[checked] }
            }
            let remaining = deadline - now()
            if remaining <= 0 { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 0.2) * 1000))
            if ready > 0 && !readAvailable() && descriptor.revents & Int16(POLLHUP) != 0 {
                return nil
            }
        }
    }

    /// Waits up to `timeout` seconds for the next line starting with `prefix` after the one
    /// `nextLine` returned last; returns it, or nil. Unlike `waitForLine`, each call moves on.
    func nextLine(prefix: String, timeout: Double = 10) -> String? {
        let deadline = now() + timeout
        while true {
            while nextCursor < lines.count {
                defer { nextCursor += 1 }
                if lines[nextCursor].hasPrefix(prefix) { return lines[nextCursor] }
            }
            let remaining = deadline - now()
            if remaining <= 0 { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 0.2) * 1000))
            if ready > 0 && !readAvailable() && descriptor.revents & Int16(POLLHUP) != 0 {
                while nextCursor < lines.count {
                    defer { nextCursor += 1 }
                    if lines[nextCursor].hasPrefix(prefix) { return lines[nextCursor] }
                }
                return nil
            }
        }
    }

    /// Reads what is available; false at end of file.
    private func readAvailable() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = read(output, &chunk, chunk.count)
        guard count > 0 else { return count < 0 && errno == EAGAIN }
        buffer += chunk[0..<count]
        while let newline = buffer.firstIndex(of: 10) {
            lines.append(String(decoding: buffer[0..<newline], as: UTF8.self))
            buffer.removeSubrange(0...newline)
        }
        return true
    }

    /// Sends `signal` and reaps the process.
    func kill(signal: Int32) {
        guard !reaped else { return }
        Glibc.kill(pid, signal)
        _ = waitForExit(timeout: 10)
    }

    /// Waits up to `timeout` seconds for the process to exit; returns its wait status, or nil.
    @discardableResult
    func waitForExit(timeout: Double = 10) -> Int32? {
        guard !reaped else { return 0 }
        let deadline = now() + timeout
        var status: Int32 = 0
        while now() < deadline {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                reaped = true
                while readAvailable() {}
                return status
            }
            usleep(2_000)
        }
        return nil
    }

    private func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Why a peer could not start.
enum PeerError: Error {
    case spawn(Int32)
}

/// A port name no other test uses.
func uniquePortName(_ label: String = #function) -> String {
    let counter = PortNameCounter.next()
    let clean = label.filter { $0.isLetter || $0.isNumber }
    return #"\RPC Control\SwiftALPCTest-"# + "\(getpid())-\(counter)-\(clean.prefix(40))"
}

private enum PortNameCounter {
    nonisolated(unsafe) private static var value = 0
    private static let lock = NSLockLike()

    static func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

/// A tiny mutex for test support code.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
