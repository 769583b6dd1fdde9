import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child `alpc` process: `alpc bench-peer`, the ALPC echo server the bench measures against
/// (and `alpc soak` restarts), or `alpc soak-client`.
///
/// Spawned from `/proc/self/exe` with posix_spawn. Its standard input is a pipe the bench
/// holds open (closing it tells the peer to exit); its standard output is a pipe on which it
/// announces `READY <pid>`; its standard error is the bench's.
final class PeerProcess {
    let pid: pid_t
    private var stdinWriter: Int32
    private var stdoutReader: Int32
    private var reaped = false

    private init(pid: pid_t, stdinWriter: Int32, stdoutReader: Int32) {
        self.pid = pid
        self.stdinWriter = stdinWriter
        self.stdoutReader = stdoutReader
    }

    /// Starts `alpc bench-peer <portName> [--cpu N]` and waits up to `readyTimeoutNanos` for its
    /// READY line. The child inherits the calling thread's CPU mask until it pins itself.
    static func spawn(portName: String, cpu: Int32?, readyTimeoutNanos: UInt64) throws(BenchError) -> PeerProcess {
        var arguments = ["bench-peer", portName]
        if let cpu { arguments += ["--cpu", String(cpu)] }
        return try spawn(arguments: arguments, readyTimeoutNanos: readyTimeoutNanos)
    }

    /// Starts `alpc <arguments>` and waits up to `readyTimeoutNanos` for its READY line.
    static func spawn(arguments subcommand: [String], readyTimeoutNanos: UInt64) throws(BenchError) -> PeerProcess {
        let arguments = ["alpc"] + subcommand
        let stdinPipe = try makePipe()
        let stdoutPipe: (read: Int32, write: Int32)
        do {
            stdoutPipe = try makePipe()
        } catch {
            close(stdinPipe.read)
            close(stdinPipe.write)
            throw error
        }
        defer {
            // The child's ends: it has its own copies now (or never started).
            close(stdinPipe.read)
            close(stdoutPipe.write)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, STDOUT_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGALRM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, environ)
        guard status == 0 else {
            close(stdinPipe.write)
            close(stdoutPipe.read)
            throw .peer("posix_spawn of /proc/self/exe failed: \(ErrnoName.describe(status))")
        }
        BenchSignals.peerPid.store(pid, ordering: .relaxed)
        let peer = PeerProcess(pid: pid, stdinWriter: stdinPipe.write, stdoutReader: stdoutPipe.read)
        do {
            try peer.awaitReady(timeoutNanos: readyTimeoutNanos)
        } catch {
            peer.terminate()
            throw error
        }
        return peer
    }

    private static func makePipe() throws(BenchError) -> (read: Int32, write: Int32) {
        // pipe2 is a GNU extension the Glibc module does not declare; no other thread forks.
        var fds: (Int32, Int32) = (-1, -1)
        let rc = withUnsafeMutableBytes(of: &fds) { raw in
            pipe(raw.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        guard rc == 0 else { throw .peer("pipe failed: \(ErrnoName.describe(errno))") }
        _ = fcntl(fds.0, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds.1, F_SETFD, FD_CLOEXEC)
        return (fds.0, fds.1)
    }

    /// Reads the peer's standard output until a line starting with READY.
    private func awaitReady(timeoutNanos: UInt64) throws(BenchError) {
        let deadline = BenchClock.now() &+ timeoutNanos
        var line: [UInt8] = []
        while true {
            try BenchSignals.checkInterrupted()
            let now = BenchClock.now()
            guard now < deadline else {
                throw .peer("no READY line within \(timeoutNanos / 1_000_000_000) s")
            }
            var descriptor = pollfd(fd: stdoutReader, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(100, (deadline - now) / 1_000_000 + 1))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .peer("poll failed: \(ErrnoName.describe(errno))")
            }
            if ready == 0 { continue }
            var byte: UInt8 = 0
            let count = read(stdoutReader, &byte, 1)
            if count < 0 {
                if errno == EINTR { continue }
                throw .peer("reading its output failed: \(ErrnoName.describe(errno))")
            }
            if count == 0 {
                throw .peer("exited before it was ready (\(waitBriefly()))")
            }
            if byte == UInt8(ascii: "\n") {
                if line.starts(with: Array("READY".utf8)) { return }
                line.removeAll()
            } else if line.count < 256 {
                line.append(byte)
            }
        }
    }

    /// Reaps the peer if it exits within a second and says how it ended.
    private func waitBriefly() -> String {
        // Cleared before any reap, so a signal handler can never kill a recycled pid.
        BenchSignals.peerPid.store(0, ordering: .relaxed)
        let deadline = BenchClock.now() &+ 1_000_000_000
        while BenchClock.now() < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                reaped = true
                return Self.describe(status: status)
            }
            if result < 0 && errno != EINTR { return "not a child any more" }
            BenchClock.sleep(nanoseconds: 5_000_000)
        }
        return "still running"
    }

    private static func describe(status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit status \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }

    /// Kills the peer with SIGKILL at once and reaps it.
    func killNow() {
        guard !reaped else { return }
        BenchSignals.peerPid.store(0, ordering: .relaxed)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        if stdinWriter >= 0 { close(stdinWriter); stdinWriter = -1 }
        if stdoutReader >= 0 { close(stdoutReader); stdoutReader = -1 }
    }

    /// Whether the peer has exited on its own (reaping it if so); how it ended, or nil while it runs.
    func exitStatus() -> String? {
        guard !reaped else { return "reaped" }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        reaped = true
        BenchSignals.peerPid.store(0, ordering: .relaxed)
        return Self.describe(status: status)
    }

    /// Ends the peer and reaps it: closes its standard input (it exits within ~100 ms), sends
    /// SIGTERM after 1 s and SIGKILL after 2 s. Idempotent; bounded.
    func terminate() {
        guard !reaped else { return }
        // Cleared before any reap, so a signal handler can never kill a recycled pid.
        BenchSignals.peerPid.store(0, ordering: .relaxed)
        if stdinWriter >= 0 { close(stdinWriter); stdinWriter = -1 }
        let start = BenchClock.now()
        var sentTerm = false
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) { break }
            let elapsed = BenchClock.now() &- start
            if elapsed > 2_000_000_000 {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            if elapsed > 1_000_000_000 && !sentTerm {
                kill(pid, SIGTERM)
                sentTerm = true
            }
            BenchClock.sleep(nanoseconds: 2_000_000)
        }
        reaped = true
        if stdoutReader >= 0 { close(stdoutReader); stdoutReader = -1 }
    }

    deinit {
        terminate()
    }
}
