internal import CALPCSystem
internal import Synchronization

/// A lock with a condition, waited on with CLOCK_MONOTONIC deadlines, built on futex words.
///
/// It coordinates the threads of one process that share a port: at most one of them consumes a
/// ring at a time (the consumer role), the others wait here for the role or for a message the
/// consumer hands them. Unlike `Mutex`, every wait here has a deadline.
///
/// Taking an uncontended lock is one atomic instruction, inline; releasing it is a plain store,
/// a fence and a load, and a caller that issues a fence right after its unlock anyway shares
/// it (``unlock(sharingFenceOf:)``: a record writer, whose publish reads the reader's wake
/// request after a fence). Only contention enters the kernel. The lock word is 0 when free
/// and 1 when held; a thread that finds it held counts itself in a word of sleepers before it
/// tries again and sleeps, and an unlock reads that count after its fence (the two sides of
/// Dekker's handshake: one of them sees the other), so a sleeper is always woken. Waiters for
/// the condition sleep on a sequence word that ``broadcast()`` advances, and only when a
/// thread waits: a broadcast with nobody waiting costs nothing.
final class ConditionLock: @unchecked Sendable {
    /// The lock word, the sequence word, then the number of threads asleep on the lock word
    /// or about to be.
    private let words: UnsafeMutablePointer<UInt32>
    /// Threads inside ``wait(until:)`` (read and written holding the lock).
    private var waiters = 0

    init() {
        words = .allocate(capacity: 3)
        words.initialize(repeating: 0, count: 3)
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

    @inline(__always) private var sleepers: UnsafeMutablePointer<Atomic<UInt32>> {
        UnsafeMutableRawPointer(words + 2).assumingMemoryBound(to: Atomic<UInt32>.self)
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
        // Counted before the next try, both sequentially consistent: an unlock that this try
        // does not see reads the count after its fence, and wakes a sleeper.
        sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        while !state.pointee.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged {
            // Returns at once when the lock was released since the try.
            _ = alpc_futex_wait_private(words, 1, -1)
        }
        sleepers.pointee.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Releases the lock.
    @inline(__always) func unlock() {
        unlock(sharingFenceOf: { atomicMemoryFence(ordering: .sequentiallyConsistent) })
    }

    /// Releases the lock, then runs `fenced`, which must issue a sequentially consistent
    /// fence (`atomicMemoryFence`) before it returns; only then is a sleeper woken. Returns
    /// what `fenced` returns. `fenced` runs without the lock.
    @inline(__always) func unlock<T>(sharingFenceOf fenced: () -> T) -> T {
        state.pointee.store(0, ordering: .releasing)
        let result = fenced()
        if sleepers.pointee.load(ordering: .relaxed) != 0 { wakeSleeper() }
        return result
    }

    /// Wakes one thread asleep on the lock word (it tries again; another that fails sleeps
    /// again and is woken by the next unlock, which finds it counted).
    @inline(never) private func wakeSleeper() {
        _ = alpc_futex_wake_private(words, 1)
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
