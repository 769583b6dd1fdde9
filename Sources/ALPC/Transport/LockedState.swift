/// A value that one lock guards, kept inside it, as Synchronization's `Mutex` keeps it, on a
/// ``ConditionLock``.
///
/// ThreadSanitizer sees how a `ConditionLock` orders the threads that take it (its atomics are
/// this module's own); it did not see it for `Mutex`, and reported the values a `Mutex` guarded
/// as raced whenever nothing else ordered the threads (the CI run of 2026-12-01).
final class LockedState<State>: @unchecked Sendable {
    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var state: State

    /// A lock guarding `state`.
    init(_ state: State) {
        self.state = state
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    func withLock<Result, Failure: Error>(_ body: (inout State) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
