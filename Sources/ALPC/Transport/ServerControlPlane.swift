internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// What an epoll event of a server port is about: the listener, a handshake, a connection's
/// control socket or doorbell, or a waitable port's readiness; with the handshake's or
/// connection's id.
enum ServerEventToken: UInt64 {
    case listener = 0, handshake, control, doorbell, readiness

    /// The epoll token of `kind` for id `id`.
    static func make(_ kind: ServerEventToken, _ id: Int) -> UInt64 { UInt64(id) << 3 | kind.rawValue }

    /// The kind and id an epoll token names.
    static func decode(_ token: UInt64) -> (kind: ServerEventToken, id: Int) {
        (ServerEventToken(rawValue: token & 7) ?? .readiness, Int(token >> 3))
    }
}

/// Something the control plane tells the application through receive.
enum ServerControlEvent {
    case connectionRequest(messageId: UInt32, handshake: Handshake)
    case closed(ServerChannel, ServerChannel.Closing, messageId: UInt32)
}

/// A server port's control plane: the listening socket that holds its name, the accepted
/// sockets whose client has not yet connected or been answered (handshakes), the open
/// connections, and their beginning (accept, refuse) and end.
///
/// The receiving thread (the holder of the receive role) runs the handlers of epoll events:
/// accepting sockets, reading CONNECT packets, sweeping handshakes past their deadline, and
/// keeping the listener from spinning when the process is out of descriptors. Application
/// threads accept and refuse connection requests. The tables both use are guarded by `lock`.
final class ServerControlPlane: @unchecked Sendable {
    /// The port's epoll set: the listener, handshakes, and every connection's control socket
    /// and doorbell (the receiving thread waits on it).
    let events: EventPoll
    let ledger: ServerLedger
    let access: AccessPolicy
    /// What the port's clients may make this process hold, shared by every connection.
    let quota: PortQuota
    /// The port's lifecycle log and counters.
    let telemetry: PortTelemetry
    /// The replies the connections wrote that the counters have not been told of.
    let replyTraffic = WrittenTraffic()
    let processId = getpid()
    let userId = getuid()

    // Guarded by lock.
    private let lock = ConditionLock()
    private var channels: [Int: ServerChannel] = [:]
    /// Accepted sockets whose connection is not yet accepted or refused, by id.
    private var handshakes: [Int: Handshake] = [:]
    private var nextId = 1
    private var isClosed = false
    /// The listening socket, which holds the port's name until the port closes.
    private var listener: ControlListener?

    // Owned by the holder of the receive role.
    /// A descriptor kept open on /dev/null (or -1): when the process is out of descriptors,
    /// closing it lets the listener accept one pending connection and refuse it with
    /// STATUS_INSUFFICIENT_RESOURCES. Owned by the holder of the receive role.
    @exclusivity(unchecked) private var spareDescriptor: Int32 = -1
    /// When the listener, taken out of the epoll set because connections could be neither
    /// accepted nor refused, goes back in (CLOCK_MONOTONIC ns; 0: it is in). A pending
    /// connection keeps the listener readable, so leaving it in would be a busy loop.
    @exclusivity(unchecked) private var listenerPausedUntil: UInt64 = 0
    /// How long the listener pauses when out of descriptors.
    private static let listenerPauseNanos: UInt64 = 50_000_000

    /// How long an accepted socket may take to send its CONNECT packet (an honest client sends
    /// it right after connecting); a socket that takes longer is closed.
    @exclusivity(unchecked) var handshakeDeadlineNanos: UInt64 = 5_000_000_000
    /// The most accepted sockets whose CONNECT packet has not come yet; beyond, new ones are
    /// refused with STATUS_QUOTA_EXCEEDED.
    @exclusivity(unchecked) var maxHandshakesAwaitingConnect = 256
    /// When handshakes past their deadline are next looked for (CLOCK_MONOTONIC ns); owned by
    /// the holder of the receive role.
    @exclusivity(unchecked) private var nextHandshakeSweep: UInt64 = 0

    init(
        name: PortName, ledger: ServerLedger, access: AccessPolicy, quota: PortQuota, telemetry: PortTelemetry
    ) throws(NTStatus) {
        self.telemetry = telemetry
        self.events = try EventPoll()
        self.ledger = ledger
        self.access = access
        self.quota = quota
        let listener = try ControlListener.listen(on: name)
        try events.add(listener.fd, token: ServerEventToken.make(.listener, 0))
        spareDescriptor = Self.openSpareDescriptor()
        self.listener = consume listener
    }

    deinit {
        if spareDescriptor >= 0 { _ = system_close(spareDescriptor) }
    }

    /// A descriptor on /dev/null to keep in reserve, or -1.
    private static func openSpareDescriptor() -> Int32 {
        max(-1, open("/dev/null", O_RDONLY | O_CLOEXEC))
    }

    /// The number of accepted, open connections.
    var connectionCount: Int { lock.withLock { channels.count } }

    /// Whether the port is closed.
    var closed: Bool { lock.withLock { isClosed } }

    /// The open connection `id`.
    func channel(_ id: Int) -> ServerChannel? {
        lock.withLock { channels[id] }
    }

    /// Every open connection.
    var allChannels: [ServerChannel] { lock.withLock { Array(channels.values) } }

    /// Forgets the connection `channel` (it has ended).
    func remove(_ channel: ServerChannel) {
        lock.withLock { channels[channel.id] = nil }
        ledger.forgetRequests(of: channel)
    }

    /// Before the receiving thread waits for events for `timeoutNanos`: puts a paused listener
    /// back when its pause is over and, before a real sleep, closes handshakes past their
    /// deadline.
    func prepareToPoll(timeoutNanos: Int64) {
        if listenerPausedUntil != 0 { resumeListenerIfDue() }
        // About to sleep: a cheap moment to close handshakes that never sent their CONNECT.
        if timeoutNanos > 0 { sweepHandshakesIfDue() }
    }

    /// Closes the port's listener (its name is free again) and every connection and
    /// handshake; the first call returns true.
    func close() -> Bool {
        lock.lock()
        let wasClosed = isClosed
        isClosed = true
        let all = wasClosed ? [] : Array(channels.values)
        if !wasClosed { channels.removeAll() }
        // Closing the listener frees the name: connecting to it fails as for any unknown name.
        let closingListener = listener.take()
        let waiting = Array(handshakes.values)
        lock.unlock()
        if !wasClosed { ledger.removeAll() }
        closingListener?.close()
        for channel in all { channel.closeFromServer() }
        for handshake in waiting { handshake.socket.shutdown() }
        return !wasClosed
    }

    /// Closes the listener, so that the port's name is free and connecting to it fails as for
    /// any unknown name; open connections and handshakes go on. True when it was open.
    func stopListening() -> Bool {
        lock.lock()
        let closing = listener.take()
        lock.unlock()
        guard let closing else { return false }
        closing.close()
        return true
    }

    // MARK: Connecting

    /// Accepts every pending connection (the listener was readable), each as a handshake
    /// waiting for its CONNECT packet, or refuses it.
    func acceptPendingSockets() {
        while true {
            let socket: ControlSocket?
            do {
                socket = try acceptFromListener()
            } catch {
                // Out of descriptors (EMFILE, ENFILE, ENOMEM...): refuse what is pending, with
                // the spare descriptor's help, or pause the listener; never spin on it.
                if error == .insufficientResources || error == .noMemory, refuseForLackOfResources() { continue }
                pauseListener()
                return
            }
            guard let socket else { return }
            guard let credentials = try? socket.peerCredentials() else { continue }
            let peer = PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
            let id = lock.withLock { () -> Int in
                defer { nextId += 1 }
                return nextId
            }
            let handshake = Handshake(id: id, socket: socket, peer: peer)
            var awaiting = awaitingConnectCount()
            if awaiting >= maxHandshakesAwaitingConnect {
                // Sockets that connected and went (a connect storm) may fill the count before
                // their hang-up is read: forget them first, so that the honest client behind
                // them is not refused.
                dropGoneHandshakes()
                awaiting = awaitingConnectCount()
            }
            guard awaiting < maxHandshakesAwaitingConnect else {
                try? handshake.socket.send(.refuse(status: .quotaExceeded, message: []), timeout: .zero)
                telemetry.connectionRefused(pid: handshake.peer.pid, status: .quotaExceeded)
                continue
            }
            do {
                try events.add(handshake.socket.fd, token: ServerEventToken.make(.handshake, id))
                lock.withLock { handshakes[id] = handshake }
            } catch {
                continue
            }
        }
    }

    /// Reads the CONNECT packet of handshake `id`, refuses it at once when the peer may not
    /// connect, and otherwise returns the connection request to queue for the application.
    func handleHandshake(id: Int, _ event: EventPoll.Event) -> ServerControlEvent? {
        guard let handshake = lock.withLock({ handshakes[id] }) else { return nil }
        if handshake.request == nil && event.isReadable {
            let packet = try? handshake.socket.receivePacket(timeout: .zero).packet
            guard case .connect(let request)? = packet else {
                dropHandshake(handshake)
                return nil
            }
            guard access.allows(uid: handshake.peer.uid, serverUid: userId) else {
                refuse(handshake, status: .accessDenied)
                return nil
            }
            handshake.request = request
            return .connectionRequest(messageId: ledger.addConnectionRequest(handshake), handshake: handshake)
        }
        if event.isHangUp {
            // The client gave up before an answer.
            handshake.abandoned = true
            dropHandshake(handshake)
        }
        return nil
    }

    private func dropHandshake(_ handshake: Handshake) {
        lock.withLock {
            // Once accepted or refused, the socket is no longer the handshake's to unregister.
            guard handshakes.removeValue(forKey: handshake.id) != nil else { return }
            try? events.remove(handshake.socket.fd)
        }
    }

    /// The number of accepted sockets whose CONNECT packet has not come.
    private func awaitingConnectCount() -> Int {
        lock.withLock { handshakes.values.count { $0.request == nil } }
    }

    /// Forgets the accepted sockets, not yet connected, whose client has already gone.
    private func dropGoneHandshakes() {
        let waiting = lock.withLock { handshakes.values.filter { $0.request == nil } }
        for handshake in waiting where handshake.socket.isPeerGone() {
            handshake.abandoned = true
            dropHandshake(handshake)
        }
    }

    /// Closes the accepted sockets whose CONNECT packet is past its deadline; runs at most once
    /// a second.
    func sweepHandshakesIfDue() {
        let now = alpc_now_ns()
        guard now >= nextHandshakeSweep else { return }
        nextHandshakeSweep = now &+ min(1_000_000_000, handshakeDeadlineNanos)
        let late = lock.withLock {
            handshakes.values.filter { $0.request == nil && now &- $0.acceptedAt > handshakeDeadlineNanos }
        }
        for handshake in late { dropHandshake(handshake) }
    }

    /// Accepts one pending connection with the spare descriptor freed, and refuses it with
    /// STATUS_INSUFFICIENT_RESOURCES. False when that was not possible.
    private func refuseForLackOfResources() -> Bool {
        guard spareDescriptor >= 0 else { return false }
        _ = system_close(spareDescriptor)
        spareDescriptor = -1
        defer { spareDescriptor = Self.openSpareDescriptor() }
        guard let socket = try? acceptFromListener() else { return false }
        try? socket.send(.refuse(status: .insufficientResources, message: []), timeout: .zero)
        telemetry.connectionRefused(pid: (try? socket.peerCredentials().pid) ?? 0, status: .insufficientResources)
        socket.close()
        return true
    }

    /// Takes the listener out of the epoll set for ``listenerPauseNanos``.
    private func pauseListener() {
        guard let fd = listenerDescriptor(), (try? events.remove(fd)) != nil else { return }
        listenerPausedUntil = max(1, alpc_now_ns() &+ Self.listenerPauseNanos)
    }

    /// Puts the paused listener back in the epoll set once its pause is over.
    func resumeListenerIfDue() {
        guard alpc_now_ns() >= listenerPausedUntil else { return }
        listenerPausedUntil = 0
        if let fd = listenerDescriptor() { try? events.add(fd, token: ServerEventToken.make(.listener, 0)) }
    }

    /// The listener's descriptor, or nil once the port is closed.
    private func listenerDescriptor() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        switch listener {
        case .some(let open): return open.fd
        case .none: return nil
        }
    }

    /// The next pending connection of the listener, or nil when none is pending or the port is closed.
    private func acceptFromListener() throws(NTStatus) -> ControlSocket? {
        lock.lock()
        defer { lock.unlock() }
        switch listener {
        case .some(let open): return try open.accept()
        case .none: return nil
        }
    }

    /// Refuses `handshake` with `status` and forgets it.
    private func refuse(_ handshake: Handshake, status: NTStatus) {
        try? handshake.socket.send(.refuse(status: status, message: []))
        telemetry.connectionRefused(pid: handshake.peer.pid, status: status)
        dropHandshake(handshake)
    }

    // MARK: Answering

    /// Accepts the connection request `messageId`, sending `reply` (header and data) back.
    ///
    /// `connectionFlags` are the ALPC_PORFLG_* flags of the accepted connection and
    /// `dupObjectTypes` the object types the server receives as handles.
    func accept(
        messageId: UInt32, reply: [UInt8], maxMessageLength: Int, portContext: UInt64,
        connectionFlags: UInt32 = ALPC_PORFLG_ALLOW_DUP_OBJECT, dupObjectTypes: UInt32 = 0xFFFF_FFFF
    ) throws(NTStatus) -> ServerChannel {
        guard let handshake = takePendingConnection(messageId) else { throw .invalidMessage }
        if handshake.abandoned || handshake.socket.isPeerGone() {
            throw .portDisconnected
        }
        let geometry = SegmentGeometry(maxMessageLength: maxMessageLength)
        // Out of descriptors or memory: the client is refused with a refusal status rather
        // than left to find its socket closed.
        let refuseFor: (NTStatus) -> Void = { [self] error in
            refuse(handshake, status: NTStatus(refusal: error == .noMemory ? .insufficientResources : error))
        }
        let segment: ConnectionSegment
        do throws(NTStatus) {
            segment = try ConnectionSegment.create(geometry: geometry, serverPid: processId)
        } catch {
            refuseFor(error)
            throw error
        }
        let doorbell: Doorbell
        do throws(NTStatus) {
            doorbell = try Doorbell()
        } catch {
            refuseFor(error)
            throw error
        }
        // Until the server polls this ring, the client rings the doorbell after each message.
        // Set before the client can see the segment: its first request may follow at once.
        segment.ring(.toServer).consumerSleeping.pointee.store(WakeRequest.doorbell, ordering: .sequentiallyConsistent)
        do throws(NTStatus) {
            try handshake.socket.send(
                .accept(serverPid: processId, message: reply, connectionFlags: connectionFlags, dupObjectTypes: dupObjectTypes),
                fds: [segment.fileDescriptor, doorbell.fd])
        } catch {
            // Descriptors in flight count against this process's limit (ETOOMANYREFS): the
            // socket still works, so the client can still be told.
            refuseFor(error)
            throw error
        }
        let policy = HandlePolicy(
            connectionFlags: connectionFlags,
            sendTypes: handshake.request?.attributes.DupObjectTypes ?? 0,
            receiveTypes: dupObjectTypes)
        let channel = ServerChannel(
            id: handshake.id, handshake: handshake, segment: segment, doorbell: doorbell, portContext: portContext,
            policy: policy, quota: quota, replyTraffic: replyTraffic)
        lock.withLock { channels[channel.id] = channel }
        // The handshake's epoll registration becomes the channel's.
        try? events.remove(handshake.socket.fd)
        do {
            try events.add(handshake.socket.fd, token: ServerEventToken.make(.control, channel.id))
            try events.add(channel.doorbell.fd, token: ServerEventToken.make(.doorbell, channel.id), events: [.readable, .edgeTriggered])
        } catch {
            channel.closeFromServer()
            lock.withLock { channels[channel.id] = nil }
            throw error
        }
        telemetry.connectionAccepted(channel.peer)
        return channel
    }

    /// Refuses the connection request `messageId`.
    func refuse(messageId: UInt32, status: NTStatus = .portConnectionRefused) throws(NTStatus) {
        guard let handshake = takePendingConnection(messageId) else { throw .invalidMessage }
        try? events.remove(handshake.socket.fd)
        try handshake.socket.send(.refuse(status: NTStatus(refusal: status), message: []))
        handshake.abandoned = true
        telemetry.connectionRefused(pid: handshake.peer.pid, status: NTStatus(refusal: status))
    }

    /// Removes the connection request `messageId` from those waiting for an answer, and its
    /// handshake from those the receiving thread watches.
    private func takePendingConnection(_ messageId: UInt32) -> Handshake? {
        guard let handshake = ledger.takeConnectionRequest(messageId) else { return nil }
        lock.withLock { handshakes[handshake.id] = nil }
        return handshake
    }
}
