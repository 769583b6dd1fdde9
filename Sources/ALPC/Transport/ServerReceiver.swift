internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// The receiving side of a server port: one receive queue fed by the listening socket, every
/// connection's control socket and doorbell, and every connection's request ring.
///
/// One thread at a time holds the receive role (others wait for it with their deadlines). It
/// polls the request rings of the connections that are active ("hot") without system calls,
/// and sleeps in epoll when nothing moves, after telling each hot connection's client to ring
/// its doorbell. Idle connections cost nothing per message: only hot rings are polled. The
/// state below the role is the holder's alone; delivery and the handling of control events
/// are in the files `ServerReceiver+Delivery` and `ServerReceiver+Events`.
final class ServerReceiver: @unchecked Sendable {
    /// The listener, the handshakes, the connections' beginning and end.
    let controlPlane: ServerControlPlane
    /// MessageIds, pending requests and connection requests, recent senders.
    let ledger: ServerLedger
    /// The port's lifecycle log and counters.
    let telemetry: PortTelemetry

    /// The receive role: its holder owns the state below.
    private let role = ExclusiveRole()

    /// Fired when the port closes: ends every asynchronous receive's suspension.
    let closeInterrupt = WaitInterrupt()
    /// Messages and data bytes delivered since the counters were last told; owned by the
    /// holder of the receive role.
    @exclusivity(unchecked) var unflushedMessages: UInt64 = 0
    @exclusivity(unchecked) var unflushedBytes: UInt64 = 0
    /// How many delivered messages the receiver counts before it tells the counters.
    static let trafficFlushInterval: UInt64 = 4096

    /// How long the receiving thread spins before sleeping: halved when spinning did not pay,
    /// back to the full budget when it did.
    @exclusivity(unchecked) var spinBudget = AdaptiveWait.spinBudgetNanos
    /// The least the server spins while a client is awake on another CPU.
    private static let minimumSpinNanos: UInt64 = 8_000

    // Owned by the holder of the receive role.
    @exclusivity(unchecked) var hot = HotConnections()
    @exclusivity(unchecked) var controlQueue: [ServerControlEvent] = []
    var eventBuffer = EventPoll.Buffer(capacity: 64)
    /// Connections accepted since the receiver last looked. A client sends its first request
    /// microseconds after its accept arrives, so the receiver polls a new connection's ring
    /// (spinning its full budget) before it sleeps, rather than wait for the doorbell.
    private let accepted = LockedState<[ServerChannel]>([])
    /// Whether `accepted` may hold a connection: read by the receiver on its way to sleep.
    private let hasAccepted = Atomic<Bool>(false)
    /// Set when accepted connections joined the hot set: spin for their first request even
    /// though their clients have not said on which CPU they run. Owned by the receive role.
    @exclusivity(unchecked) var awaitingFirstRequest = false

    /// For a waitable port: signalled while the receive role is free and a message waits that
    /// no doorbell announces (already read from the control plane, or in a ring being
    /// polled), so that the epoll descriptor stays readable while a message is queued.
    private let readiness: Doorbell?
    /// Whether `readiness` is signalled; owned by the holder of the receive role.
    @exclusivity(unchecked) var readinessSignalled = false

    init(controlPlane: ServerControlPlane, ledger: ServerLedger, telemetry: PortTelemetry, waitable: Bool) throws(NTStatus) {
        self.controlPlane = controlPlane
        self.ledger = ledger
        self.telemetry = telemetry
        if waitable {
            let readiness = try Doorbell()
            try controlPlane.events.add(readiness.fd, token: ServerEventToken.make(.readiness, 0))
            self.readiness = consume readiness
        } else {
            self.readiness = nil
        }
    }

    // MARK: Receiving

    /// Receives the next message from any client into `sink`; with `batch` above 1, then as
    /// many more (up to `batch` in all) as the same client's ring already holds, releasing
    /// their slots together. Returns how many were delivered.
    @discardableResult
    @inline(__always)
    func receive<Sink: MessageSink>(
        into sink: inout Sink, deadline: inout CallDeadline, batch: Int = 1, reader: MessageReader = { _ in }
    ) throws(NTStatus) -> Int {
        try acquireRole(deadline: &deadline)
        defer { releaseRole() }
        // A busy server's common case, before the wait's state exists: a hot ring holds a record.
        if controlQueue.isEmpty {
            let delivered = try deliverFromHotRing(into: &sink, batch: batch, reader: reader)
            if delivered > 0 {
                awaitingFirstRequest = false
                return delivered
            }
        }
        var emptyRounds = 0
        var spinStart: UInt64 = 0
        // Whether the current spin yields the CPU (to a client on this CPU) rather than polls.
        var yielding = false
        while true {
            // (Checked here: a call per round costs more than the check, in every spin.)
            if !controlQueue.isEmpty, try deliverControlEvent(into: &sink, reader: reader) { return 1 }
            let delivered = try deliverFromHotRing(into: &sink, batch: batch, reader: reader)
            if delivered > 0 {
                // Found while spinning: spinning pays now, so allow the full budget next time.
                if spinStart != 0 { spinBudget = AdaptiveWait.spinBudgetNanos }
                awaitingFirstRequest = false
                return delivered
            }
            emptyRounds &+= 1
            if hot.isEmpty || emptyRounds & 255 == 0 {
                if try pollEvents(timeoutNanos: 0) { emptyRounds = 0; continue }
            }
            if emptyRounds & 15 != 0 && spinStart != 0 && !yielding {
                alpc_cpu_relax()
                continue
            }
            let spinning = shouldSpin()
            // A client awake on this CPU sends its next request only when this thread stops
            // running: give it the CPU, for as long as a spin would last, instead of sleeping.
            yielding = !spinning && hot.clientRunsHere(me: AdaptiveWait.currentCpuWord)
            if spinning || yielding {
                let now = alpc_now_ns()
                if spinStart == 0 {
                    spinStart = now
                    // The first clock reading of this call's waits starts its timeout.
                    _ = deadline.instant(now: now)
                }
                if now &- spinStart < spinBudget {
                    if !yielding {
                        alpc_cpu_relax()
                        continue
                    }
                    if AdaptiveWait.mayYield(now: now) && AdaptiveWait.yieldProcessor() { continue }
                }
                // Spinning did not pay this time: spin less next time, down to a floor that
                // still catches a client's next request sent right after its reply.
                spinBudget = max(spinBudget / 2, Self.minimumSpinNanos)
            }
            if hasAccepted.load(ordering: .relaxed) && adoptAccepted() {
                spinStart = 0
                continue
            }
            awaitingFirstRequest = false
            // Nothing moves: ask hot clients to ring, re-check, then sleep in epoll.
            if hot.goColdAndRecheck() { spinStart = 0; continue }
            try sleepForEvents(until: &deadline)
            spinStart = 0
        }
    }

    // MARK: Waitable ports

    /// The descriptor that is readable while a message may be queued: the epoll descriptor of
    /// a waitable port, nil for another.
    var pollDescriptor: Int32? { readiness == nil ? nil : controlPlane.events.fd }

    /// Waits until a message can be received, without receiving it. True when one can, false
    /// when the deadline passed first.
    func waitForMessage(deadline: inout CallDeadline) throws(NTStatus) -> Bool {
        try acquireRole(deadline: &deadline)
        defer { releaseRole() }
        while true {
            if hasDeliverable() { return true }
            if try pollEvents(timeoutNanos: 0) { continue }
            do {
                try sleepForEvents(until: &deadline)
            } catch .timeout {
                return false
            }
        }
    }

    /// Sleeps in epoll for one slice, or until `deadline` when that comes first, and handles
    /// what arrived.
    ///
    /// - Throws: `.timeout` once `deadline` has passed, `.portDisconnected` when the port is closed.
    private func sleepForEvents(until deadline: inout CallDeadline) throws(NTStatus) {
        var timeout = Int64(AdaptiveWait.sliceNanos)
        let now = alpc_now_ns()
        if let end = deadline.instant(now: now) {
            guard now < end else { throw .timeout }
            timeout = min(timeout, Int64(end &- now))
        }
        if controlPlane.closed { throw .portDisconnected }
        // About to sleep: a cheap moment to tell the counters.
        flushTraffic()
        _ = try pollEvents(timeoutNanos: timeout)
    }

    /// Hands the delivered messages counted so far (and the replies) to the port's counters.
    /// Holding the receive role.
    func flushTraffic() {
        let sent = controlPlane.replyTraffic.collect()
        telemetry.flushTraffic(messages: unflushedMessages, bytes: unflushedBytes, replies: sent.records, replyBytes: sent.dataBytes)
        unflushedMessages = 0
        unflushedBytes = 0
    }

    /// True when a receive would deliver something now: a control event, or a hot ring with a
    /// record or a closing connection.
    func hasDeliverable() -> Bool {
        !controlQueue.isEmpty || hot.hasDeliverable()
    }

    /// The receive role was taken: nothing needs `readiness` while it is held.
    private func clearReadiness() {
        guard readinessSignalled else { return }
        readiness?.drain()
        readinessSignalled = false
    }

    /// Before the receive role is given up: signals `readiness` when a message waits that no
    /// doorbell will announce; otherwise lets every hot connection's client ring again.
    private func settleReadiness() {
        var waiting = hasDeliverable()
        if !waiting { waiting = hot.goColdAndRecheck() }
        guard waiting != readinessSignalled else { return }
        if waiting { readiness?.ring() } else { readiness?.drain() }
        readinessSignalled = waiting
    }

    /// Takes the receive role, waiting until `deadline` for another holder to give it up. A
    /// waitable port's readiness is the holder's to keep from then on.
    @inline(__always)
    private func acquireRole(deadline: inout CallDeadline) throws(NTStatus) {
        try role.acquire(deadline: &deadline)
        if readiness != nil { clearReadiness() }
    }

    /// Gives the receive role up, leaving a waitable port's readiness as what is queued says.
    @inline(__always)
    private func releaseRole() {
        if readiness != nil { settleReadiness() }
        role.release()
    }

    /// True while spinning may pay: a hot connection's client is awake on another CPU, or a
    /// connection just accepted awaits its first request.
    private func shouldSpin() -> Bool {
        awaitingFirstRequest || hot.clientRunsElsewhere(me: AdaptiveWait.currentCpuWord)
    }

    /// Hands a connection just accepted to the receiver, which polls its ring before it next
    /// sleeps.
    func noteAccepted(_ channel: ServerChannel) {
        accepted.withLock { $0.append(channel) }
        hasAccepted.store(true, ordering: .releasing)
    }

    /// Drops `channel`, which is ending, from the connections accepted and not yet polled, so
    /// that its descriptors close with it even while the receiver never sleeps.
    func forgetAccepted(_ channel: ServerChannel) {
        accepted.withLock { channels in channels.removeAll { $0 === channel } }
    }

    /// Makes the connections accepted since the last call hot, with the full spin budget for
    /// their first requests. True when one was still open. Holding the receive role. (Not
    /// inlined: the way to sleep is no part of the receive loop's fast path.)
    @inline(never)
    private func adoptAccepted() -> Bool {
        hasAccepted.store(false, ordering: .relaxed)
        let channels = accepted.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        var adopted = false
        for channel in channels where channel.closing == nil && controlPlane.channel(channel.id) === channel {
            hot.add(channel)
            adopted = true
        }
        if adopted {
            awaitingFirstRequest = true
            spinBudget = AdaptiveWait.spinBudgetNanos
        }
        return adopted
    }

    /// The port closed: every thread waiting for the role, or suspended in an asynchronous
    /// receive, looks again (and finds it closed); connections accepted and not yet polled are
    /// dropped.
    func portClosed() {
        accepted.withLock { $0.removeAll() }
        role.wakeAll()
        closeInterrupt.fire()
    }

    /// Whether a thread holds the receive role now (a hint: it may change at once).
    var receiveRoleIsHeld: Bool { role.isHeld }
}
