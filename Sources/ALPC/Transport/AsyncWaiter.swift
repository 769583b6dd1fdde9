/// One suspension of an asynchronous caller until a poll descriptor (a client connection's,
/// or a server port's epoll set) is readable, its deadline passes, its task is cancelled, or
/// one of its ``WaitInterrupt``s fires, whichever comes first: the continuation is resumed
/// exactly once.
final class AsyncWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>, id: UInt64)
        case cancelled
        case done
    }

    private let state = LockedState<State>(.idle)
    private let fd: Int32
    /// Why the wait could not begin, if it could not.
    private let failure = LockedState<NTStatus?>(nil)

    init(fd: Int32) {
        self.fd = fd
    }

    /// Suspends until the descriptor is readable, `deadline` passes, the task is cancelled or
    /// one of `interrupts` fires.
    ///
    /// - Throws: what kept the reactor from watching the descriptor.
    func wait(deadline: UInt64?, interrupts: [WaitInterrupt] = []) async throws(NTStatus) {
        for interrupt in interrupts where !interrupt.register(self) { cancel() }
        defer { for interrupt in interrupts { interrupt.unregister(self) } }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                begin(continuation, deadline: deadline)
            }
        } onCancel: {
            cancel()
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
    }

    private func begin(_ continuation: CheckedContinuation<Void, Never>, deadline: UInt64?) {
        // Registered under the state lock, so that a cancellation either comes before (and the
        // wait never begins) or finds the waiter registered.
        let resumeNow = state.withLock { state -> Bool in
            guard case .idle = state else { return true }
            do throws(NTStatus) {
                let id = try PollReactor.shared.notify(when: fd, deadline: deadline) { [self] in finish() }
                state = .waiting(continuation, id: id)
                return false
            } catch {
                failure.withLock { $0 = error }
                state = .done
                return true
            }
        }
        if resumeNow { continuation.resume() }
    }

    /// The reactor's resumption: the descriptor is readable or the deadline passed.
    private func finish() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard case .waiting(let continuation, _) = state else { return nil }
            state = .done
            return continuation
        }
        continuation?.resume()
    }

    /// Ends the wait now (or, before it begins, keeps it from beginning).
    func interrupt() {
        cancel()
    }

    private func cancel() {
        let waiting = state.withLock { state -> (CheckedContinuation<Void, Never>, UInt64)? in
            switch state {
            case .idle:
                state = .cancelled
                return nil
            case .waiting(let continuation, let id):
                state = .done
                return (continuation, id)
            case .cancelled, .done:
                return nil
            }
        }
        guard let (continuation, id) = waiting else { return }
        _ = PollReactor.shared.cancel(id, fd: fd)
        continuation.resume()
    }
}
