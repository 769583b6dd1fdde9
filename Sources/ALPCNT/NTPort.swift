internal import ALPC
internal import CALPC
internal import CALPCNTSupport
internal import Glibc
internal import Synchronization

/// A port handle of the C API: a connection port (a server), a communication port (one of its
/// connections) or a client port. The handle is an eventfd of its own that identifies it.
final class NTPort: Sendable {
    /// What the handle stands for.
    enum Kind: Sendable {
        case connection(AlpcServer)
        case communication(AlpcServer, ServerConnection)
        case client(ClientPort)
    }

    let kind: Kind

    /// What a message call reaches through the port, borrowed from ``kind``: the port holds
    /// these objects as long as it lives, and a call holds the port (``PortTable/port(_:)``),
    /// so the call needs no reference count of its own on them.
    enum Borrowed {
        /// A connection port's or a communication port's server.
        case server(Unmanaged<AlpcServer>, isConnectionPort: Bool)
        /// A client port.
        case client(Unmanaged<ClientPort>)
    }

    /// ``kind``, borrowed (see ``Borrowed``).
    let borrowed: Borrowed
    /// The handle's descriptor.
    let descriptor: Int32
    /// The port's ALPC_PORFLG_* flags.
    let flags: UInt32
    /// The port's number among the ports of this process: ALPC_BASIC_INFORMATION.SequenceNo.
    let sequenceNumber: UInt32
    /// The port context given at accept (communication ports).
    let portContext: UInt64

    private struct Retained {
        /// The messages last received into each C buffer, by address: what came with them
        /// (indirect handle arrays, QoS copies, view holds) lives until the next receive into
        /// the same buffer, at most `maxRetained` buffers.
        var received: [Received] = []
        /// The security contexts created on this port.
        var securityContexts: Set<UInt64> = []
        var nextSecurityContext: UInt64 = 0
    }

    /// A message kept for the C buffer at `address`. Nothing uses it again: it only keeps
    /// what came with it alive, so it may move to whichever thread drops it.
    private struct Received: @unchecked Sendable {
        let address: UInt
        let message: AlpcMessage
    }

    private let retained = Mutex(Retained())
    /// `retained.received.count`, read without the lock: most receives keep nothing.
    private let receivedCount = Atomic<Int>(0)
    private static let maxRetained = 16
    private static let sequence = Atomic<UInt32>(0)

    private init(kind: Kind, descriptor: Int32, flags: UInt32, portContext: UInt64) {
        self.kind = kind
        switch kind {
        case .connection(let server): borrowed = .server(.passUnretained(server), isConnectionPort: true)
        case .communication(let server, _): borrowed = .server(.passUnretained(server), isConnectionPort: false)
        case .client(let client): borrowed = .client(.passUnretained(client))
        }
        self.descriptor = descriptor
        self.flags = flags
        self.portContext = portContext
        self.sequenceNumber = Self.sequence.add(1, ordering: .relaxed).newValue
    }

    /// A new port of `kind` with a handle of its own, entered in the handle table.
    static func open(_ kind: Kind, flags: UInt32, portContext: UInt64 = 0) throws(NTStatus) -> NTPort {
        open(kind, descriptor: try reserveDescriptor(), flags: flags, portContext: portContext)
    }

    /// A descriptor for a port handle, taken before what it will stand for exists, so that
    /// running out of descriptors fails before anything is done.
    static func reserveDescriptor() throws(NTStatus) -> Int32 {
        let fd = alpcnt_eventfd()
        guard fd >= 0 else { throw .insufficientResources }
        return fd
    }

    /// A new port of `kind` whose handle is `descriptor` (from ``reserveDescriptor()``),
    /// entered in the handle table.
    static func open(_ kind: Kind, descriptor: Int32, flags: UInt32, portContext: UInt64 = 0) -> NTPort {
        let port = NTPort(kind: kind, descriptor: descriptor, flags: flags, portContext: portContext)
        PortTable.shared.insert(port)
        return port
    }

    /// The handle to give the caller.
    var handle: UnsafeMutableRawPointer? { .init(descriptor: descriptor) }

    /// The server behind a connection or communication port.
    var server: AlpcServer? {
        switch kind {
        case .connection(let server), .communication(let server, _): server
        case .client: nil
        }
    }

    /// Ends what the handle stands for (NtClose, NtAlpcDisconnectPort).
    func disconnect() {
        switch kind {
        case .connection(let server): server.disconnect()
        case .communication(_, let connection): connection.disconnect()
        case .client(let client): client.disconnect()
        }
    }

    /// Keeps `message`, just received into the C buffer it views, until the next receive into
    /// that buffer, when something came with it; the caller owns the descriptors it brought.
    /// Returns whether the message was kept.
    @discardableResult
    @inline(__always)
    func retain(received message: AlpcMessage, at address: UnsafeMutableRawPointer) -> Bool {
        // Only views, handles and QoS copies bring anything to keep.
        guard !message.attributes.valid.isDisjoint(with: [.view, .handle, .security]) else { return false }
        keep(received: message, at: address)
        return true
    }

    /// Keeps `message`, which brought something, for ``retain(received:at:)``.
    @inline(never)
    private func keep(received message: AlpcMessage, at address: UnsafeMutableRawPointer) {
        _ = message.takeHandles()
        let kept = Received(address: UInt(bitPattern: address), message: message)
        retained.withLock { state in
            state.received.removeAll { $0.address == kept.address }
            if state.received.count == Self.maxRetained { state.received.removeFirst() }
            state.received.append(kept)
            receivedCount.store(state.received.count, ordering: .relaxed)
        }
    }

    /// Forgets what was received into the buffer at `address` (it is about to be reused).
    @inline(__always)
    func forgetReceived(at address: UnsafeMutableRawPointer) {
        guard receivedCount.load(ordering: .relaxed) > 0 else { return }
        forgetKept(at: address)
    }

    /// ``forgetReceived(at:)`` when something is kept.
    @inline(never)
    private func forgetKept(at address: UnsafeMutableRawPointer) {
        let key = UInt(bitPattern: address)
        retained.withLock { state in
            state.received.removeAll { $0.address == key }
            receivedCount.store(state.received.count, ordering: .relaxed)
        }
    }

    /// A new security context handle of this port.
    func createSecurityContext() -> UInt64 {
        retained.withLock { state in
            state.nextSecurityContext &+= 1
            let handle = (UInt64(sequenceNumber) << 32) | state.nextSecurityContext
            state.securityContexts.insert(handle)
            return handle
        }
    }

    /// Deletes the security context `handle`; false when the port has none such.
    func deleteSecurityContext(_ handle: UInt64) -> Bool {
        retained.withLock { $0.securityContexts.remove(handle) != nil }
    }
}

/// The port handles of the process, indexed by descriptor number (descriptors are small).
final class PortTable: Sendable {
    static let shared = PortTable()
    private let ports = Mutex<[NTPort?]>([])

    func insert(_ port: NTPort) {
        let index = Int(port.descriptor)
        ports.withLock { ports in
            if ports.count <= index { ports.append(contentsOf: repeatElement(nil, count: index + 1 - ports.count)) }
            ports[index] = port
        }
    }

    /// The port whose handle is `handle`, or nil.
    func port(_ handle: UnsafeMutableRawPointer?) -> NTPort? {
        guard let fd = handle.descriptor else { return nil }
        let index = Int(fd)
        return ports.withLock { index < $0.count ? $0[index] : nil }
    }

    /// Removes and returns the port whose handle is `handle`.
    func remove(_ handle: UnsafeMutableRawPointer?) -> NTPort? {
        guard let fd = handle.descriptor else { return nil }
        let index = Int(fd)
        return ports.withLock { ports in
            guard index < ports.count else { return nil }
            defer { ports[index] = nil }
            return ports[index]
        }
    }
}
