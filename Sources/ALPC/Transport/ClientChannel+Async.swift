internal import CALPCSystem
internal import Synchronization

extension ClientChannel {
    /// Waits, without blocking a thread, for the reply `cookie` (0: the next message nobody
    /// waits for) and delivers it into `sink`: spins briefly, then suspends the task until
    /// the poll descriptor says a message may wait, and tries again, until `deadline`.
    ///
    /// - Throws: `.timeout`, `.cancelled` when the task is cancelled (the reply, when it
    ///   comes, is dropped), or what a receive throws.
    func receiveAsync<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: UInt64?, reader: MessageReader = { _ in }
    ) async throws(NTStatus) {
        var attempt = AdaptiveWait.asyncAttempt(until: deadline)
        var woken = false
        while true {
            do throws(NTStatus) {
                try receive(cookie: cookie, into: &sink, deadline: &attempt, keepExpecting: true, reader: reader)
                return
            } catch .timeout {
                // Not yet: suspend below.
            }
            if woken {
                // Readable, yet nothing to take: the server may have gone (a wait this short
                // never reaches the receive's own liveness check).
                do throws(NTStatus) {
                    try checkAlive()
                } catch {
                    if cookie != 0 { replies.abandon(cookie) }
                    throw error
                }
            }
            if Task.isCancelled || deadline.map({ alpc_now_ns() >= $0 }) == true {
                let status: NTStatus = Task.isCancelled ? .cancelled : .timeout
                if cookie != 0 {
                    replies.abandon(cookie)
                    telemetry.callEnded(status)
                }
                throw status
            }
            do throws(NTStatus) {
                try await AsyncWaiter(fd: try pollDescriptor()).wait(deadline: deadline)
            } catch {
                if cookie != 0 {
                    replies.abandon(cookie)
                    telemetry.callEnded(error)
                }
                throw error
            }
            // Readable (or the deadline, or a cancellation): try once more without waiting.
            woken = true
            attempt = CallDeadline(at: alpc_now_ns())
        }
    }

    /// Runs `send` (given a deadline for room in the request ring) without blocking a thread
    /// for long: a full ring is waited for by spinning about ``AdaptiveWait/asyncSpinNanos``,
    /// then by suspending the task for 50 µs, doubling up to 1 ms, until `deadline`. (The
    /// server rings nobody when it frees a slot: a full ring means it is behind, and a short
    /// sleep costs it nothing.)
    ///
    /// - Throws: `.cancelled` when the task is cancelled (nothing was sent), `.timeout` at
    ///   `deadline`, or what `send` throws.
    func sendAsync<T>(
        deadline: UInt64?, _ send: (inout CallDeadline) throws(NTStatus) -> T
    ) async throws(NTStatus) -> T {
        var pause: UInt64 = 50_000
        while true {
            let attempt = Result { () throws(NTStatus) -> T in
                var room = AdaptiveWait.asyncAttempt(until: deadline)
                return try send(&room)
            }
            switch attempt {
            case .success(let value): return value
            case .failure(let error) where error != .timeout: throw error
            case .failure: break
            }
            if Task.isCancelled { throw .cancelled }
            if let deadline, alpc_now_ns() >= deadline { throw .timeout }
            try? await Task.sleep(for: .nanoseconds(Int64(pause)))
            pause = min(pause * 2, 1_000_000)
        }
    }
}
