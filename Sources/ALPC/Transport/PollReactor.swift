internal import CALPCSystem
internal import Synchronization

/// The thread that resumes asynchronous callers: it sleeps in epoll on the poll descriptors of
/// the client connections that tasks wait on, and when one becomes readable, or a waiter's
/// deadline passes, it runs that waiter's resumption.
///
/// One per process, started when the first task waits and ended (with its epoll descriptor)
/// after a second with nobody waiting. Waiting costs a task no thread: it is suspended until
/// the reactor resumes it. The reactor sleeps until a descriptor is readable or the earliest
/// deadline comes, never in slices: a task that waits without a deadline (an idle server)
/// costs no wake-up. A waiter whose deadline comes before the reactor's wakes it through an
/// eventfd of its own.
final class PollReactor: @unchecked Sendable {
    /// The process's reactor.
    static let shared = PollReactor()

    /// One suspended caller.
    private struct Waiter {
        let id: UInt64
        let deadline: UInt64?
        let resume: @Sendable () -> Void
    }

    /// The epoll set and the eventfd that interrupts its wait, made on first use (kept in a
    /// box: neither is copyable).
    private final class Poll: Sendable {
        let events: EventPoll
        let interrupt: Doorbell
        init() throws(NTStatus) {
            events = try EventPoll()
            interrupt = try Doorbell()
            try events.add(interrupt.fd, token: PollReactor.interruptToken, events: [.readable])
        }
    }

    /// The epoll token of ``Poll/interrupt`` (descriptors' tokens are their numbers, below 2^32).
    private static let interruptToken: UInt64 = 1 << 40

    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var poll: Poll?
    @exclusivity(unchecked) private var waiters: [Int32: [Waiter]] = [:]
    @exclusivity(unchecked) private var nextId: UInt64 = 0
    @exclusivity(unchecked) private var running = false
    /// When the reactor's current wait ends (CLOCK_MONOTONIC ns; `.max`: only at an event).
    @exclusivity(unchecked) private var sleepingUntil: UInt64 = .max
    /// How many times the reactor's epoll wait has returned (for tests: an idle wait costs none).
    @exclusivity(unchecked) private var wakeups = 0

    /// ``wakeups``, read under the lock.
    var wakeupCount: Int { lock.withLock { wakeups } }

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
            // A deadline before the end of the reactor's wait: wake it to wait less.
            if let deadline, running, deadline < sleepingUntil { poll.interrupt.ring() }
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
            // The last waiter went while the reactor may sleep until its (later) deadline: wake it, so
            // that it starts counting its idle second.
            if waiters.isEmpty, running { poll?.interrupt.ring() }
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
            if runOnce(buffer: &buffer, idleSince: &idleSince) { continue }
            // The epoll set and its eventfd were closed with `runOnce`'s last reference: only
            // now is the reactor stopped (``waitUntilStopped`` counts on its descriptors being
            // gone). A waiter that came meanwhile made a new set: go on for it.
            let stopped = lock.withLock { () -> Bool in
                guard waiters.isEmpty else { return false }
                running = false
                lock.broadcast()
                return true
            }
            if stopped { return }
            idleSince = 0
        }
    }

    /// One wait of the reactor and the resumptions it makes due. False when nobody waited for
    /// the idle limit and the epoll set was dropped.
    private func runOnce(buffer: inout EventPoll.Buffer, idleSince: inout UInt64) -> Bool {
        // Sleep until an event, the earliest deadline, or (nobody waiting) the idle limit.
        let (poll, timeoutNanos): (Poll?, UInt64?) = lock.withLock {
            let now = alpc_now_ns()
            var until = waiters.values.lazy.flatMap { $0 }.compactMap(\.deadline).min()
            if waiters.isEmpty {
                if idleSince == 0 { idleSince = now }
                until = idleSince &+ Self.idleLimitNanos
            }
            sleepingUntil = until ?? .max
            return (self.poll, until.map { $0 > now ? $0 &- now : 0 })
        }
        guard let poll else { return false }
        let timeout: Duration? = timeoutNanos.map { .nanoseconds(Int64(clamping: $0)) }
        let count = (try? poll.events.wait(into: &buffer, timeout: timeout)) ?? 0
        let now = alpc_now_ns()
        var due: [@Sendable () -> Void] = []
        let stop: Bool = lock.withLock {
            sleepingUntil = 0
            wakeups += 1
            for index in 0..<count {
                if buffer[index].token == Self.interruptToken {
                    _ = poll.interrupt.drain()
                    continue
                }
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
                if now &- idleSince >= Self.idleLimitNanos {
                    // Nobody waits: the epoll set is dropped (closed as this call returns).
                    self.poll = nil
                    return true
                }
            } else {
                idleSince = 0
            }
            return false
        }
        for resume in due { resume() }
        return !stop
    }

    /// How long the reactor stays with nobody waiting before it ends.
    private static let idleLimitNanos: UInt64 = 1_000_000_000
}
