internal import Synchronization

/// A role one thread at a time holds (a server port's receive role), the others waiting for it
/// with their deadlines.
///
/// Taking a free role is one compare-and-exchange and giving it up one exchange and one load:
/// the lock and its futex are used only while a thread waits.
final class ExclusiveRole: @unchecked Sendable {
    /// Whether a thread holds the role.
    private let held = Atomic<Bool>(false)
    /// How many threads wait for it (or are about to): the holder wakes them when it leaves.
    private let waiting = Atomic<Int>(0)
    /// Where waiting threads sleep.
    private let lock = ConditionLock()

    /// Whether a thread holds the role now (a hint: it may change at once).
    var isHeld: Bool { held.load(ordering: .relaxed) }

    /// Takes the role, waiting until `deadline` for its holder to give it up.
    ///
    /// - Throws: `.timeout` when the deadline passes first.
    @inline(__always)
    func acquire(deadline: inout CallDeadline) throws(NTStatus) {
        if held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { return }
        try acquireContended(deadline: &deadline)
    }

    @inline(never)
    private func acquireContended(deadline: inout CallDeadline) throws(NTStatus) {
        // Counted before the next try: a holder that leaves after it sees the count and wakes.
        waiting.wrappingAdd(1, ordering: .sequentiallyConsistent)
        defer { waiting.wrappingSubtract(1, ordering: .relaxed) }
        lock.lock()
        defer { lock.unlock() }
        while !held.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            if !lock.wait(until: deadline.instant()) { throw .timeout }
        }
    }

    /// Gives the role up, and wakes the threads waiting for it.
    @inline(__always)
    func release() {
        held.store(false, ordering: .sequentiallyConsistent)
        if waiting.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }
    }

    /// Wakes every waiting thread, to look again (the role was given up, or the port closed).
    func wakeAll() {
        lock.withLock { lock.broadcast() }
    }
}
