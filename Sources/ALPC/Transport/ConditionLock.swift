internal import CALPCSystem
internal import Synchronization

/// A lock with a condition, waited on with CLOCK_MONOTONIC deadlines, built on two futex words.
///
/// It coordinates the threads of one process that share a port: at most one of them consumes a
/// ring at a time (the consumer role), the others wait here for the role or for a message the
/// consumer hands them. Unlike `Mutex`, every wait here has a deadline.
///
/// Taking and releasing an uncontended lock is one atomic instruction each, inline (the lock
/// is on every message's path); only contention enters the kernel. The lock word is 0 when
/// free, 1 when held, 2 when held and a thread may sleep on it (Drepper, "Futexes Are Tricky",
/// mutex 3). Waiters sleep on a sequence word that ``broadcast()`` advances, and only when a
/// thread waits: a broadcast with nobody waiting costs nothing.
final class ConditionLock: @unchecked Sendable {
    /// The lock word, then the sequence word.
    private let words: UnsafeMutablePointer<UInt32>
    /// Threads inside ``wait(until:)`` (read and written holding the lock).
    private var waiters = 0

    init() {
        words = .allocate(capacity: 2)
        words.initialize(repeating: 0, count: 2)
    }

    deinit {
        words.deallocate()
    }

    @inline(__always) private var state: UnsafeMutablePointer<Atomic<UInt32>> {
        UnsafeMutableRawPointer(words).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    @inline(__always) private var sequence: UnsafeMutablePointer<Atomic<UInt32>> {
        UnsafeMutableRawPointer(words + 1).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Takes the lock; pair with `unlock()`.
    @inline(__always) func lock() {
        if !state.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            lockContended()
        }
    }

    @inline(never) private func lockContended() {
        // Marked 2 from now on, so that the holder's unlock wakes a sleeper.
        while state.pointee.exchange(2, ordering: .acquiring) != 0 {
            _ = alpc_futex_wait_private(words, 2, -1)
        }
    }

    /// Releases the lock.
    @inline(__always) func unlock() {
        if state.pointee.exchange(0, ordering: .releasing) == 2 {
            _ = alpc_futex_wake_private(words, 1)
        }
    }

    /// Waits for a broadcast, holding the lock before and after; false when `deadline` (CLOCK_MONOTONIC
    /// nanoseconds) passed. Without a deadline the wait is still bounded to one second, so callers
    /// re-check their state. It may also return early, as condition variables do.
    func wait(until deadline: UInt64?) -> Bool {
        let now = alpc_now_ns()
        var target = now &+ 1_000_000_000
        if let deadline {
            if deadline <= now { return false }
            target = min(target, deadline)
        }
        // Read holding the lock: a broadcast after the unlock below changes it, so the futex
        // wait returns at once instead of missing it.
        let observed = sequence.pointee.load(ordering: .relaxed)
        waiters += 1
        unlock()
        _ = alpc_futex_wait_private(words + 1, observed, Int64(target &- now))
        lock()
        waiters -= 1
        return true
    }

    /// Wakes every waiter. Call it holding the lock.
    func broadcast() {
        guard waiters > 0 else { return }
        sequence.pointee.wrappingAdd(1, ordering: .releasing)
        _ = alpc_futex_wake_private(words + 1, Int32.max)
    }
}
