/// Ends asynchronous waits early from outside the waiting tasks: a port that closes, or a
/// server told to shut down gracefully. Once fired it stays fired, and a wait that begins
/// afterwards ends at once.
final class WaitInterrupt: Sendable {
    private struct State {
        var fired = false
        var waiters: [ObjectIdentifier: AsyncWaiter] = [:]
    }

    private let state = LockedState(State())

    /// Whether ``fire()`` was called.
    var fired: Bool { state.withLock { $0.fired } }

    /// Ends every wait registered now or later.
    func fire() {
        let waiters = state.withLock { state -> [AsyncWaiter] in
            state.fired = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.interrupt() }
    }

    /// Registers `waiter` to be interrupted; false (not registered) when already fired.
    func register(_ waiter: AsyncWaiter) -> Bool {
        state.withLock { state in
            guard !state.fired else { return false }
            state.waiters[ObjectIdentifier(waiter)] = waiter
            return true
        }
    }

    /// Forgets `waiter` (its wait has ended).
    func unregister(_ waiter: AsyncWaiter) {
        _ = state.withLock { $0.waiters.removeValue(forKey: ObjectIdentifier(waiter)) }
    }
}
