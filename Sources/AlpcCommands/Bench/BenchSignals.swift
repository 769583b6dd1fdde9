import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the bench's signal handlers know and do.
///
/// SIGINT and the SIGALRM watchdog both SIGKILL the peer at once: an ALPC call blocked on it
/// then fails with STATUS_PORT_DISCONNECTED, the run unwinds through its error path, and
/// the peer is reaped there. A C baseline batch finishes on its own (it is bounded by its own
/// watchdog), after which the run sees the flag.
enum BenchSignals {
    /// The peer's pid, 0 when there is none.
    static let peerPid = Atomic<Int32>(0)
    /// Set by SIGINT.
    static let interruptFlag = Atomic<Bool>(false)
    /// Set by SIGALRM (an ALPC batch stalled).
    static let stallFlag = Atomic<Bool>(false)

    static var interrupted: Bool { interruptFlag.load(ordering: .relaxed) }
    static var stalled: Bool { stallFlag.load(ordering: .relaxed) }

    /// Installs the SIGINT and SIGALRM handlers.
    static func install() {
        signal(SIGINT) { _ in
            BenchSignals.interruptFlag.store(true, ordering: .relaxed)
            BenchSignals.killPeer()
        }
        signal(SIGALRM) { _ in
            BenchSignals.stallFlag.store(true, ordering: .relaxed)
            BenchSignals.killPeer()
        }
    }

    /// Puts the default handlers back.
    static func uninstall() {
        alarm(0)
        signal(SIGINT, SIG_DFL)
        signal(SIGALRM, SIG_DFL)
    }

    /// Async-signal-safe: SIGKILLs the peer if there is one (the run reaps it).
    static func killPeer() {
        let pid = peerPid.load(ordering: .relaxed)
        if pid > 0 { kill(pid, SIGKILL) }
    }

    /// Throws `.interrupted` after SIGINT.
    static func checkInterrupted() throws(BenchError) {
        if interrupted { throw .interrupted }
    }

    /// Runs `body` with a watchdog of `seconds`: when it fires, the peer is killed and the
    /// error `body` then throws becomes `.stalled`. SIGINT wins over everything.
    static func withWatchdog<T>(
        seconds: UInt32, what: @autoclosure () -> String, _ body: () throws(BenchError) -> T
    ) throws(BenchError) -> T {
        stallFlag.store(false, ordering: .relaxed)
        alarm(max(1, seconds))
        defer { alarm(0) }
        do {
            return try body()
        } catch {
            alarm(0)
            if interrupted { throw .interrupted }
            if stalled { throw .stalled(what: what(), seconds: seconds) }
            throw error
        }
    }
}
