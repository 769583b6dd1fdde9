internal import CALPCSystem

extension ServerReceiver {
    /// Receives the next message from any client into `sink` without blocking a thread for
    /// long: spins (or waits in epoll) for about ``AdaptiveWait/asyncSpinNanos``, then
    /// suspends the task until the port's epoll set is readable, and tries again, until
    /// `deadline`.
    ///
    /// A receive that finds nothing leaves every connection asking its client to ring its
    /// doorbell and nothing read but not delivered, so the epoll set is readable as soon as a
    /// message waits. When another receiver holds the receive role, the task looks again
    /// every millisecond.
    ///
    /// - Throws: `.timeout`, `.cancelled` when the task is cancelled or `interrupt` fires,
    ///   `.portDisconnected` once the port is closed, or what a receive throws.
    func receiveAsync<Sink: MessageSink>(
        into sink: inout Sink, deadline: UInt64?, interrupt: WaitInterrupt? = nil
    ) async throws(NTStatus) {
        var attemptDeadline = min(deadline ?? .max, alpc_now_ns() &+ AdaptiveWait.asyncSpinNanos)
        while true {
            do throws(NTStatus) {
                var attempt = CallDeadline(at: attemptDeadline)
                try receive(into: &sink, deadline: &attempt)
                return
            } catch .timeout {
                // Nothing yet: suspend below.
            }
            if controlPlane.closed { throw .portDisconnected }
            if Task.isCancelled || interrupt?.fired == true { throw .cancelled }
            let now = alpc_now_ns()
            if let deadline, now >= deadline { throw .timeout }
            var wakeAt = deadline
            if receiveRoleIsHeld { wakeAt = min(deadline ?? .max, now &+ 1_000_000) }
            try await AsyncWaiter(fd: controlPlane.events.fd)
                .wait(deadline: wakeAt, interrupts: interrupt.map { [closeInterrupt, $0] } ?? [closeInterrupt])
            attemptDeadline = alpc_now_ns()
        }
    }
}
