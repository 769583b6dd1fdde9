internal import CALPCSystem
internal import Synchronization

/// The thread that resumes asynchronous callers: it sleeps in epoll on the poll descriptors of
/// the client connections that tasks wait on, and when one becomes readable, or a waiter's
/// deadline passes, it runs that waiter's resumption.
///
/// One per process, started when the first task waits and ended (with its epoll descriptor)
/// after a second with nobody waiting. Waiting costs a task no thread: it is suspended until
/// the reactor resumes it.
final class PollReactor: @unchecked Sendable {
    /// The process's reactor.
    static let shared = PollReactor()

    /// One suspended caller.
    private struct Waiter {
        let id: UInt64
        let deadline: UInt64?
        let resume: @Sendable () -> Void
    }

    /// The epoll set, made on first use (kept in a box: `EventPoll` is not copyable).
    private final class Poll: Sendable {
        let events: EventPoll
        init() throws(NTStatus) { events = try EventPoll() }
    }

    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var poll: Poll?
    @exclusivity(unchecked) private var waiters: [Int32: [Waiter]] = [:]
    @exclusivity(unchecked) private var nextId: UInt64 = 0
    @exclusivity(unchecked) private var running = false

    /// Runs `resume` once, on the reactor's thread, when `fd` is readable or `deadline`
    /// (CLOCK_MONOTONIC ns) passes. Returns the waiter's id, for ``cancel(_:fd:)``.
    func notify(when fd: Int32, deadline: UInt64?, _ resume: @escaping @Sendable () -> Void) throws(NTStatus) -> UInt64 {
        try lock.withLock { () throws(NTStatus) -> UInt64 in
            let poll: Poll
            if let existing = self.poll {
                poll = existing
            } else {
                poll = try Poll()
                self.poll = poll
            }
            if waiters[fd, default: []].isEmpty {
                try poll.events.add(fd, token: UInt64(UInt32(bitPattern: fd)), events: [.readable])
            }
            nextId &+= 1
            waiters[fd, default: []].append(Waiter(id: nextId, deadline: deadline, resume: resume))
            // The reactor waits in slices of 10 ms, so a deadline is met within one.
            if !running {
                running = true
                guard DetachedThread.start(stackSize: 256 * 1024, { [self] in run() }) else {
                    running = false
                    throw NTStatus.insufficientResources
                }
            }
            return nextId
        }
    }

    /// Forgets the waiter `id` on `fd`; returns its resumption when it had not run yet (the
    /// caller runs it).
    func cancel(_ id: UInt64, fd: Int32) -> (@Sendable () -> Void)? {
        lock.withLock {
            guard let index = waiters[fd]?.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = waiters[fd]!.remove(at: index)
            if waiters[fd]!.isEmpty { forgetLocked(fd) }
            return waiter.resume
        }
    }

    /// Waits until the reactor has stopped (nobody waited for a second), for at most
    /// `timeoutNanos`. True when it has (for tests that count descriptors).
    func waitUntilStopped(timeoutNanos: UInt64 = 3_000_000_000) -> Bool {
        let deadline = alpc_now_ns() &+ timeoutNanos
        return lock.withLock {
            while running {
                if !lock.wait(until: deadline) { return false }
            }
            return true
        }
    }

    /// Stops watching `fd`. Holding the lock.
    private func forgetLocked(_ fd: Int32) {
        waiters[fd] = nil
        try? poll?.events.remove(fd)
    }

    private func run() {
        var buffer = EventPoll.Buffer(capacity: 64)
        var idleSince: UInt64 = 0
        while true {
            let poll: Poll? = lock.withLock { self.poll }
            guard let poll else { return }
            // Short slices: deadlines are met within 10 ms, and nothing else needs the thread.
            let count = (try? poll.events.wait(into: &buffer, timeout: .milliseconds(10))) ?? 0
            let now = alpc_now_ns()
            var due: [@Sendable () -> Void] = []
            let stop: Bool = lock.withLock {
                for index in 0..<count {
                    let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: buffer[index].token))
                    if let ready = waiters[fd] {
                        due += ready.map(\.resume)
                        forgetLocked(fd)
                    }
                }
                for (fd, list) in waiters {
                    let expired = list.filter { $0.deadline.map { $0 <= now } ?? false }
                    guard !expired.isEmpty else { continue }
                    due += expired.map(\.resume)
                    let kept = list.filter { waiter in !expired.contains { $0.id == waiter.id } }
                    if kept.isEmpty { forgetLocked(fd) } else { waiters[fd] = kept }
                }
                if waiters.isEmpty && due.isEmpty {
                    if idleSince == 0 { idleSince = now }
                    if now &- idleSince > 1_000_000_000 {
                        // Nobody waits: the thread ends and its epoll descriptor is closed.
                        running = false
                        self.poll = nil
                        lock.broadcast()
                        return true
                    }
                } else {
                    idleSince = 0
                }
                return false
            }
            for resume in due { resume() }
            if stop { return }
        }
    }
}
