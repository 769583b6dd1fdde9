internal import CALPC
public import Logging
public import CoreMetrics

/// An ALPC server: a named port that clients connect to, and one queue on which it receives
/// their connection requests, requests, datagrams and lifecycle messages.
///
/// The API follows PythonForWindows' `AlpcServer`: `init(portName:)` is `create_port`,
/// `receive` is `recv`, `acceptConnection` is `accept_connection`, `send` replies to a received
/// request (reuse the received message, or set a new message's `messageId` to the request's).
///
/// ```swift
/// let server = try AlpcServer(portName: #"\RPC Control\Sample"#)
/// let message = try server.receive()
/// if message.messageType.kind == .connectionRequest {
///     try server.acceptConnection(message)
/// }
/// ```
///
/// Several threads may receive and send on one server at once.
public final class AlpcServer: @unchecked Sendable {
    /// The port's name as Windows writes it (`\RPC Control\Name`).
    public let portName: String
    /// The port's attributes.
    public let attributes: PortAttributes
    /// The transport's side of the port: control plane, ledger, receiver.
    let core: ServerPort
    /// `core`'s receiver, held here too: the receive path then reaches it without a
    /// reference count.
    let receiver: ServerReceiver
    /// The sections this server created.
    let sections: PortSections
    /// Fired by ``shutDownGracefully()``: ends the waits of a running ``run(maxConcurrentRequests:connection:handler:)``.
    let shutdown = WaitInterrupt()

    /// Creates the port `portName` (create_port).
    ///
    /// - Parameters:
    ///   - portName: a Windows port name such as `\RPC Control\Name`; a leading `\` is added when missing.
    ///   - attributes: the port attributes; `maxMessageLength` bounds every message (default 0x1000).
    ///   - access: who may connect, decided from the kernel's peer credentials (default: the
    ///     server's own user and root).
    ///   - logger: where the port logs its lifecycle (created, closed, connections accepted,
    ///     refused, ended, clients that died or broke the protocol, with their pid); never a
    ///     line per message. Nothing is logged when nil.
    ///   - metricsFactory: where the port's counters and gauge go (messages and bytes each
    ///     way, connections open, accepted, refused, closed, died, protocol violations; see
    ///     <doc:Observability>); `MetricsSystem.factory` when nil.
    ///
    /// With `ALPC_PORFLG_WAITABLE_PORT` in the attributes' flags the port is waitable: see
    /// ``pollDescriptor`` and ``waitForMessage(timeout:)``.
    /// - Throws: `NTStatus.objectNameCollision` when the name is taken, `.objectNameInvalid`
    ///   for a malformed name, `.invalidParameter` for a maximum message length outside
    ///   0x28...0xFFFF.
    public convenience init(
        portName: String, attributes: PortAttributes = .server, access: AccessPolicy = .sameUser,
        logger: Logger? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) throws(NTStatus) {
        try self.init(
            portName: portName, attributes: attributes, access: access, quota: PortQuota(attributes: attributes),
            logger: logger, metricsFactory: metricsFactory)
    }

    /// A server port whose clients are bounded by `quota` (tests lower the library's bounds).
    init(
        portName: String, attributes: PortAttributes, access: AccessPolicy, quota: PortQuota,
        logger: Logger? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) throws(NTStatus) {
        let name = try PortName(portName)
        let maxLength = attributes.maxMessageLength
        guard maxLength >= MemoryLayout<PORT_MESSAGE>.size, maxLength <= Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH) else {
            throw .invalidParameter
        }
        let telemetry = PortTelemetry(
            portName: name.windowsName, logger: logger ?? disabledLogger,
            metricsFactory: metricsFactory ?? MetricsSystem.factory)
        self.core = try ServerPort(
            name: name, maxMessageLength: maxLength, access: access, quota: quota,
            waitable: attributes.flags & ALPC_PORFLG_WAITABLE_PORT != 0, telemetry: telemetry)
        self.receiver = core.receiver
        telemetry.portCreated(maxMessageLength: maxLength)
        self.portName = name.windowsName
        self.attributes = attributes
        self.sections = PortSections(attributes: attributes)
    }

    deinit {
        core.close()
    }

    /// The number of open connections.
    public var connectionCount: Int { core.connectionCount }

    /// Receives the next message from any client (recv).
    ///
    /// Connection requests arrive as `LPC_CONNECTION_REQUEST` (Type 0x200A), requests as
    /// 0x2001 with a nonzero MessageId, datagrams as `LPC_DATAGRAM`, a client's disconnect as
    /// `LPC_PORT_CLOSED` and a client's death as `LPC_CLIENT_DIED`. The context attribute, when
    /// allocated, carries the connection's port context and sequence number.
    ///
    /// - Parameters:
    ///   - message: the message to receive into; a new 4 KiB message when nil.
    ///   - timeout: how long to wait; nil waits until a message arrives.
    /// - Returns: the message received into.
    /// - Throws: `.timeout` when the time runs out; `.bufferTooSmall` when the message does not
    ///   fit, in which case it stays queued and `message.port.totalLength` is the size it needs.
    @discardableResult
    @inlinable
    public func receive(into message: AlpcMessage? = nil, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        // Inlined, so that a caller that drops the result counts no reference for it.
        let message = message ?? AlpcMessage()
        try _receive(into: message, timeout: timeout)
        return message
    }

    /// Receives the next message from any client into `message`, which the caller keeps
    /// (recv): as with an optional message, and the same message is returned. (Its own
    /// overload: one that takes an optional counts a reference for the message around the call.)
    @discardableResult
    @inlinable
    public func receive(into message: AlpcMessage, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        try _receive(into: message, timeout: timeout)
        return message
    }

    /// ``receive(into:timeout:)-(AlpcMessage?,_)`` into a given message, returning nothing.
    @usableFromInline
    func _receive(into message: AlpcMessage, timeout: Duration?) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        var sink = CopyingSink(message: message)
        try receiver.receive(into: &sink, deadline: &deadline)
    }

    /// The file descriptor of a waitable port (`ALPC_PORFLG_WAITABLE_PORT`), readable while a
    /// message may be queued, for epoll or an event loop; nil for a port that is not waitable.
    ///
    /// Readable means a receive may find a message: after a wake-up, receive with a zero
    /// timeout, and expect `.timeout` at times (as with a socket's `EAGAIN`). The descriptor
    /// belongs to the port; do not close it.
    public var pollDescriptor: Int32? { receiver.pollDescriptor }

    /// Waits until a message can be received, without receiving it: true when one can, false
    /// when `timeout` passed first (nil waits without limit).
    ///
    /// - Throws: `.portDisconnected` when the port is closed.
    public func waitForMessage(timeout: Duration? = nil) throws(NTStatus) -> Bool {
        var deadline = CallDeadline(after: timeout)
        return try receiver.waitForMessage(deadline: &deadline)
    }

    /// Accepts the connection request `request` (accept_connection): its data goes back to the
    /// client as the connection reply.
    ///
    /// - Parameters:
    ///   - request: the received connection request, or a message carrying its MessageId.
    ///   - attributes: the connection's attributes; its `maxMessageLength` may lower the port's,
    ///     and its flags say whether handles may cross the connection
    ///     (`ALPC_PORFLG_ALLOW_DUP_OBJECT`, the default) and more than one per message
    ///     (`ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE`).
    ///   - portContext: a value copied into the context attribute of every later message on this connection.
    /// - Returns: the connection (the communication port).
    @discardableResult
    public func acceptConnection(_ request: AlpcMessage, attributes: PortAttributes = .accept, portContext: UInt64 = 0) throws(NTStatus) -> ServerConnection {
        let dataLength = try SlotRecord.validateOutgoing(request, maxMessageLength: Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH))
        let reply = [UInt8](UnsafeRawBufferPointer(start: request.port.start, count: SlotRecord.headerSize + dataLength))
        let limit = min(core.maxMessageLength, max(MemoryLayout<PORT_MESSAGE>.size, attributes.maxMessageLength))
        let channel = try core.controlPlane.accept(
            messageId: request.port.messageId, reply: reply, maxMessageLength: limit, portContext: portContext,
            connectionFlags: attributes.flags, dupObjectTypes: self.attributes.dupObjectTypes)
        receiver.noteAccepted(channel)
        return ServerConnection(core: core, channel: channel)
    }

    /// Refuses the connection request `request`; the client's connect fails with `status`:
    /// `STATUS_PORT_CONNECTION_REFUSED` by default, or `.accessDenied`,
    /// `.insufficientResources` or `.quotaExceeded` (any other status reads as the default).
    public func refuseConnection(_ request: AlpcMessage, status: NTStatus = .portConnectionRefused) throws(NTStatus) {
        try core.controlPlane.refuse(messageId: request.port.messageId, status: status)
    }

    /// Sends `message` as the reply to the request whose MessageId it carries (send).
    ///
    /// - Throws: `.invalidParameter` when the MessageId is 0, `.invalidMessage` when no request
    ///   with that MessageId waits for a reply (unknown, or already answered),
    ///   `.portMessageTooLong` when it exceeds the connection's maximum (the request then stays
    ///   answerable), `.portDisconnected` when the client is gone.
    public func send(_ message: AlpcMessage, flags: MessageFlags = []) throws(NTStatus) {
        try core.reply(message)
    }

    /// Lends the next message from any client to `body` in place, without copying it, and
    /// returns `body`'s result.
    ///
    /// The message has the Type, MessageId and ClientId ``receive(into:timeout:)-(AlpcMessage?,_)`` would give
    /// it, and the server's bookkeeping is the same: a request can be answered (also from
    /// inside `body`) with ``reply(to:dataLength:fill:)`` or ``send(_:flags:)``, and
    /// ``senderCredentials(messageId:)`` knows its sender. Connection requests and lifecycle
    /// messages are lent the same way. Attributes are not delivered: a message that carries
    /// some loses them (use ``receive(into:timeout:)-(AlpcMessage?,_)`` for them). `body` must not call
    /// `receive` on this server, and must not keep the message.
    ///
    /// - Parameters:
    ///   - timeout: how long to wait; nil waits until a message arrives.
    ///   - body: reads the message. When it throws, the message is consumed and its error rethrown.
    /// - Throws: `.timeout` when the time runs out, `.portDisconnected` when the port is closed,
    ///   or `body`'s error.
    @inlinable
    public func receive<Result>(
        timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        var result: Result?
        try _receive(timeout: timeout) { (message) throws(NTStatus) in result = try body(message) }
        guard let result else { throw .unsuccessful }
        return result
    }

    /// Lends the next message from any client to `body` in place, as the generic
    /// ``receive(timeout:_:)->_`` does, for a `body` that returns nothing (the common
    /// server loop): `body` is handed down as it is, with no result to carry back.
    ///
    /// - Throws: `.timeout` when the time runs out, `.portDisconnected` when the port is closed,
    ///   or `body`'s error (the message is consumed).
    @inlinable
    public func receive(timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Void) throws(NTStatus) {
        try _receive(timeout: timeout, body)
    }

    /// ``receive(timeout:_:)`` without its generic result.
    @usableFromInline
    func _receive(timeout: Duration?, _ body: (ReceivedMessage) throws(NTStatus) -> Void) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        try AlpcClient.lend { (sink: inout LendingSink) throws(NTStatus) in
            try receiver.receive(into: &sink, deadline: &deadline, reader: body)
        }
    }

    /// Lends several messages to `body` in place, one after the other: the next message (as
    /// ``receive(timeout:_:)->_`` waits for it), then as many more, up to `maxCount` in all, as the
    /// same client has already sent. Their slots are released together, so draining a burst of
    /// datagrams costs one release and at most one wake-up of the client instead of one each.
    ///
    /// Requests among them are answered as any other (``reply(to:dataLength:fill:)``, or
    /// ``send(_:flags:)`` with their MessageId). As with ``receive(timeout:_:)->_``, attributes are
    /// not delivered.
    ///
    /// - Parameters:
    ///   - maxCount: the most messages to lend, at least 1.
    ///   - timeout: how long to wait for the first message; nil waits until one arrives.
    ///   - body: reads each message. When it throws, that message is consumed, no more are
    ///     lent, and its error is rethrown.
    /// - Returns: how many messages `body` was lent.
    /// - Throws: `.invalidParameter` for a `maxCount` below 1, `.timeout` when nothing came in
    ///   time, `.portDisconnected` when the port is closed, or `body`'s error.
    @discardableResult
    public func receive(
        upTo maxCount: Int, timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Void
    ) throws(NTStatus) -> Int {
        guard maxCount >= 1 else { throw .invalidParameter }
        var deadline = CallDeadline(after: timeout)
        var count = 0
        try AlpcClient.lend { (sink: inout LendingSink) throws(NTStatus) in
            count = try receiver.receive(into: &sink, deadline: &deadline, batch: maxCount, reader: body)
        }
        return count
    }

    /// Replies to the request `messageId` with `dataLength` bytes of data that `fill` writes in
    /// place, in the client's shared memory (or, when the client's reply ring is full, in the
    /// copy kept until it frees a slot). The reply carries no attributes: use
    /// ``send(_:flags:)`` for them.
    ///
    /// - Parameters:
    ///   - messageId: the MessageId of a received request that waits for its reply.
    ///   - dataLength: the reply's data length, at most the connection's maximum message
    ///     length less the 0x28-byte header.
    ///   - fill: writes exactly `dataLength` bytes. When it throws, nothing is sent, the
    ///     request stays answerable and the error is rethrown.
    /// - Throws: `.invalidParameter` for MessageId 0 or a negative length, `.invalidMessage`
    ///   when no request with that MessageId waits for a reply, `.portMessageTooLong` when the
    ///   reply exceeds the connection's maximum (the request stays answerable),
    ///   `.portDisconnected` when the client is gone, or `fill`'s error.
    public func reply(
        to messageId: UInt32, dataLength: Int, fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        try core.reply(to: messageId, dataLength: dataLength, fill: fill)
    }

    /// Replies with `reply`, then receives the next message (the classic server loop).
    @discardableResult
    public func sendReceive(_ reply: AlpcMessage, receiveInto message: AlpcMessage? = nil, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        try send(reply)
        return try receive(into: message, timeout: timeout)
    }

    /// Closes the port and every connection; clients waiting on it get `STATUS_PORT_DISCONNECTED`.
    public func disconnect() {
        core.close()
    }

    // MARK: Senders

    /// Who sent the received message `message`, as the kernel knows the sender (its
    /// connection's `SO_PEERCRED`): the same values as its token attribute.
    ///
    /// - Throws: `.invalidMessage` when the message is neither a pending connection request
    ///   nor one of the last 4096 messages received.
    public func senderCredentials(of message: AlpcMessage) throws(NTStatus) -> SenderCredentials {
        try senderCredentials(messageId: message.messageId)
    }

    /// Who sent the received message whose MessageId is `messageId`; see
    /// ``senderCredentials(of:)``.
    public func senderCredentials(messageId: UInt32) throws(NTStatus) -> SenderCredentials {
        let sender = try core.sender(of: messageId)
        return SenderCredentials(
            processId: sender.peer.pid, userId: sender.peer.uid, groupId: sender.peer.gid,
            allowsImpersonation: sender.allowsImpersonation)
    }

    // MARK: Sections and views

    /// Creates a port section of at least `size` bytes (NtAlpcCreatePortSection).
    ///
    /// - Parameters:
    ///   - size: the bytes wanted; the section has whole pages.
    ///   - flags: 0 or `ALPC_CREATEPORTSECTIONFLG_SECURE`.
    /// - Returns: the section's handle and actual size.
    /// - Throws: `.sectionTooBig` above the port's `maxSectionSize` (or its
    ///   `maxTotalSectionSize` with the other sections), `.invalidParameter` for a size of 0 or
    ///   unknown flags.
    public func createPortSection(size: Int, flags: UInt32 = 0) throws(NTStatus) -> AlpcSection {
        try sections.create(size: size, flags: flags)
    }

    /// Creates a view of `size` bytes (0: the whole section) in `section` (NtAlpcCreateSectionView).
    ///
    /// - Throws: `.invalidHandle` for a section this server did not create,
    ///   `.invalidViewSize` above the port's `maxViewSize` or when the section has no room.
    public func createSectionView(_ section: AlpcSection, size: Int) throws(NTStatus) -> DataView {
        try sections.createView(section, size: size)
    }

    /// Deletes the view at `view.viewBase` (NtAlpcDeleteSectionView): a view this server
    /// created, or a view it received (its mapping is released).
    ///
    /// - Throws: `.invalidParameter` when no view starts there.
    public func deleteSectionView(_ view: DataView) throws(NTStatus) {
        try sections.deleteView(at: view.viewBase)
    }

    /// Deletes `section` and its views (NtAlpcDeletePortSection); clients that were sent it
    /// are told, and drop their mappings.
    ///
    /// - Throws: `.invalidHandle` for a section this server did not create.
    public func deletePortSection(_ section: AlpcSection) throws(NTStatus) {
        let id = try sections.delete(section)
        core.notifySectionDeleted(id)
    }
}

/// One accepted connection of an `AlpcServer` (a communication port).
public final class ServerConnection: @unchecked Sendable {
    /// The port the connection was accepted on.
    let core: ServerPort
    /// The connection itself.
    let channel: ServerChannel

    init(core: ServerPort, channel: ServerChannel) {
        self.core = core
        self.channel = channel
    }

    /// The client's process id, from the kernel.
    public var clientProcessId: Int32 { channel.peer.pid }
    /// The client's user id, from the kernel.
    public var clientUserId: UInt32 { channel.peer.uid }
    /// The client's group id, from the kernel.
    public var clientGroupId: UInt32 { channel.peer.gid }
    /// The port context given at accept.
    public var portContext: UInt64 { channel.portContext }

    /// Closes this connection; the client's calls fail with `STATUS_PORT_DISCONNECTED`.
    public func disconnect() {
        core.disconnect(channel)
    }
}
