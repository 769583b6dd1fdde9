internal import ALPC
internal import CALPC
internal import Dispatch
internal import Synchronization

/// A client port of the C API: connected at once (a synchronous connect), or connecting on a
/// thread of its own (an asynchronous connect), whose outcome the next receive reports as an
/// `LPC_CONNECTION_REPLY` message or as the failure status.
final class ClientPort: @unchecked Sendable {
    private enum State {
        case connecting
        case connected(AlpcClient)
        case failed(NTStatus)
        case disconnected
    }

    /// What an asynchronous connect has to tell the next receive.
    enum Outcome {
        /// The server's connection reply: header and data, Type LPC_CONNECTION_REPLY.
        case reply([UInt8])
        /// The connect failed with this status.
        case failure(NTStatus)
    }

    private let state: Mutex<State>
    /// The client once connected: written once, holding `state`'s lock, before `isConnected`
    /// is set, and read only after `isConnected` was read set; never cleared (a disconnected
    /// client fails every call with STATUS_PORT_DISCONNECTED), so that a call finds it without
    /// the lock.
    nonisolated(unsafe) private var connected: AlpcClient?
    /// `connected`, unretained, written with it: a call borrows the client through it (see
    /// ``withClient(timeout:_:)``).
    nonisolated(unsafe) private var connectedUnretained: Unmanaged<AlpcClient>?
    private let isConnected = Atomic<Bool>(false)
    private let isDisconnected = Atomic<Bool>(false)
    private let pending = Mutex<Outcome?>(nil)
    /// Whether `pending` holds an outcome: written holding its lock, read without it, so that
    /// a receive (which asks on every call) takes the lock only when there is one. An outcome
    /// is kept before the connect is settled, so a caller that saw `isSettled` sees this set.
    private let hasPending = Atomic<Bool>(false)
    private let finished = DispatchGroup()
    /// Whether the connect is over (connected or failed): then nobody needs to wait.
    private let isSettled = Atomic<Bool>(false)

    /// A port connected synchronously.
    init(connected client: AlpcClient) {
        state = Mutex(.connected(client))
        connected = client
        connectedUnretained = .passUnretained(client)
        isConnected.store(true, ordering: .releasing)
        isSettled.store(true, ordering: .releasing)
    }

    /// A port whose connect runs now, on a thread of its own.
    init(connecting connect: @escaping @Sendable () throws(NTStatus) -> (AlpcClient, [UInt8])) throws(NTStatus) {
        state = Mutex(.connecting)
        finished.enter()
        let started = DetachedThread.start { [self] in
            do throws(NTStatus) {
                let (client, reply) = try connect()
                let kept = state.withLock { state -> Bool in
                    guard case .connecting = state else { return false }
                    state = .connected(client)
                    connected = client
                    connectedUnretained = .passUnretained(client)
                    isConnected.store(true, ordering: .releasing)
                    return true
                }
                if kept { keep(.reply(reply)) } else { client.disconnect() }
            } catch {
                state.withLock { state in
                    if case .connecting = state { state = .failed(error) }
                }
                keep(.failure(error))
            }
            isSettled.store(true, ordering: .releasing)
            finished.leave()
        }
        guard started else {
            finished.leave()
            throw .insufficientResources
        }
    }

    /// Waits for the connect to end, up to `timeout` (nil: without limit). False on timeout.
    @inline(__always)
    func waitConnected(timeout: Duration?) -> Bool {
        if isSettled.load(ordering: .acquiring) { return true }
        return waitUnsettled(timeout: timeout)
    }

    /// ``waitConnected(timeout:)`` while the connect is still under way.
    @inline(never)
    private func waitUnsettled(timeout: Duration?) -> Bool {
        guard let timeout else {
            finished.wait()
            return true
        }
        let (seconds, attoseconds) = timeout.components
        let nanos = Int(clamping: seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue) &+ Int(attoseconds / 1_000_000_000)
        return finished.wait(timeout: .now() + .nanoseconds(max(0, nanos))) == .success
    }

    /// The connected client, waiting up to `timeout` for an asynchronous connect.
    ///
    /// - Throws: `.timeout`, the connect's failure, or `.portDisconnected` once disconnected.
    func client(timeout: Duration?) throws(NTStatus) -> AlpcClient {
        if let client = connectedClient { return client }
        if isDisconnected.load(ordering: .relaxed) { throw .portDisconnected }
        guard waitConnected(timeout: timeout) else { throw .timeout }
        return try state.withLock { (state) throws(NTStatus) -> AlpcClient in
            switch state {
            case .connected(let client): return client
            case .failed(let status): throw status
            case .connecting, .disconnected: throw .portDisconnected
            }
        }
    }

    /// Runs `body` with the connected client (see ``client(timeout:)``), borrowed: this port
    /// holds it for as long as it lives (`connected` is never cleared), and the caller holds
    /// this port, so no reference is counted on a message call's path.
    func withClient<Result>(
        timeout: Duration?, _ body: (AlpcClient) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        if isConnected.load(ordering: .acquiring), !isDisconnected.load(ordering: .relaxed),
            let client = connectedUnretained
        {
            return try client.withBorrowed(body)
        }
        return try body(try client(timeout: timeout))
    }

    /// Keeps `outcome` for the next receive.
    private func keep(_ outcome: Outcome) {
        pending.withLock {
            $0 = outcome
            hasPending.store(true, ordering: .releasing)
        }
    }

    /// Takes what an asynchronous connect has to tell the next receive, if anything.
    @inline(__always)
    func takeOutcome() -> Outcome? {
        guard hasPending.load(ordering: .acquiring) else { return nil }
        return takePendingOutcome()
    }

    /// ``takeOutcome()`` when one is there.
    @inline(never)
    private func takePendingOutcome() -> Outcome? {
        pending.withLock { outcome in
            defer {
                outcome = nil
                hasPending.store(false, ordering: .relaxed)
            }
            return outcome
        }
    }

    /// Whether an asynchronous connect's outcome waits for the next receive.
    var hasOutcome: Bool {
        hasPending.load(ordering: .acquiring)
    }

    /// Puts back an outcome that the receive could not deliver (its buffer was too small).
    func restore(_ outcome: Outcome) {
        keep(outcome)
    }

    /// The connected client, if the connect is over and succeeded.
    var connectedClient: AlpcClient? {
        guard isConnected.load(ordering: .acquiring), !isDisconnected.load(ordering: .relaxed) else { return nil }
        return connected
    }

    /// Disconnects; a connect still running is dropped when it ends.
    func disconnect() {
        let client = state.withLock { state -> AlpcClient? in
            isDisconnected.store(true, ordering: .relaxed)
            defer { state = .disconnected }
            if case .connected(let client) = state { return client }
            return nil
        }
        client?.disconnect()
    }
}
