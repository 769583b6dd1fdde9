internal import CALPC
public import Logging
public import CoreMetrics
internal import CALPCSystem

internal import Glibc

/// An ALPC client: a connection to a server's port.
///
/// The API follows PythonForWindows' `AlpcClient`: `init(portName:...)` is `connect_to_port`,
/// and `send`, `receive` and `sendReceive` are `send`, `recv` and `send_receive`.
///
/// ```swift
/// let client = try AlpcClient(portName: #"\RPC Control\Sample"#)
/// let reply = try client.sendReceive("Hello world !")
/// print(reply.string)
/// ```
///
/// Several threads may call `sendReceive` at once; each gets its own reply.
public final class AlpcClient: @unchecked Sendable {
    /// The name of the port this client is connected to.
    public let portName: String
    /// The server's connection reply: the connect message, now holding the server's data.
    public let connectionReply: AlpcMessage?
    let channel: ClientChannel
    /// The sections this client created.
    let sections: PortSections

    /// Connects to the port `portName` (connect_to_port).
    ///
    /// - Parameters:
    ///   - portName: the server's port name (`\RPC Control\Name`).
    ///   - connectMessage: data for the server's connection request; on success it holds the
    ///     server's reply and is available as `connectionReply`.
    ///   - attributes: the client's port attributes.
    ///   - flags: the connect flags (ALPC_MSGFLG_SYNC_REQUEST by default).
    ///   - timeout: how long to wait for the server to answer; nil waits without limit.
    ///   - logger: where the connection logs its lifecycle (connected, disconnected, ended by
    ///     the server); nothing is logged when nil.
    ///   - metricsFactory: where the connection counts calls that timed out or were
    ///     cancelled, and ends by the server; `MetricsSystem.factory` when nil.
    /// - Throws: `.objectNameNotFound` for an unknown port, `.objectNameInvalid` for a malformed
    ///   name, `.portConnectionRefused` when the server refuses, `.accessDenied` when this user
    ///   may not connect, `.timeout` when nobody answers in time, `.portDisconnected` when the
    ///   server goes away meanwhile.
    public convenience init(
        portName: String, connectMessage: AlpcMessage? = nil, attributes: PortAttributes = .client,
        flags: MessageFlags = .syncRequest, timeout: Duration? = nil,
        logger: Logger? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) throws(NTStatus) {
        try self.init(
            portName: portName, connectMessage: connectMessage, attributes: attributes, flags: flags,
            timeout: timeout, quota: PortQuota(attributes: attributes), logger: logger, metricsFactory: metricsFactory)
    }

    /// Connects as above, bounding what the server may make this process hold by `quota`
    /// (tests lower the library's bounds).
    init(
        portName: String, connectMessage: AlpcMessage?, attributes: PortAttributes, flags: MessageFlags,
        timeout: Duration?, quota: PortQuota, logger: Logger? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) throws(NTStatus) {
        let name = try PortName(portName)
        let telemetry = ClientTelemetry(
            portName: name.windowsName, logger: logger ?? disabledLogger,
            metricsFactory: metricsFactory ?? MetricsSystem.factory)
        var requestBytes: [UInt8] = []
        if let connectMessage {
            let dataLength = try SlotRecord.validateOutgoing(connectMessage, maxMessageLength: Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH))
            requestBytes = [UInt8](UnsafeRawBufferPointer(start: connectMessage.port.start, count: SlotRecord.headerSize + dataLength))
        }
        let (channel, reply) = try ClientChannel.connect(
            to: name, request: requestBytes, attributes: attributes, flags: flags.rawValue, timeout: timeout, quota: quota,
            telemetry: telemetry)
        self.channel = channel
        if let connectMessage {
            try SlotRecord.copy(parked: reply, into: connectMessage)
            let port = connectMessage.port
            port.type = UInt16(LPC_REPLY)
            port.clientId = ClientID(process: UInt64(channel.serverPid), thread: port.clientId.thread)
            self.connectionReply = connectMessage
        } else {
            self.connectionReply = nil
        }
        self.portName = name.windowsName
        self.sections = PortSections(attributes: attributes)
    }

    deinit {
        channel.close()
    }

    /// The largest message (header plus data) the connection carries.
    public var maxMessageLength: Int { channel.geometry.maxMessageLength }

    /// The server's process id, from the kernel (the connection's `SO_PEERCRED`).
    public var serverProcessId: Int32 { channel.serverCredentials.pid }
    /// The server's user id, from the kernel.
    public var serverUserId: UInt32 { channel.serverCredentials.uid }
    /// The server's group id, from the kernel.
    public var serverGroupId: UInt32 { channel.serverCredentials.gid }

    /// Sends `message` without waiting (send).
    ///
    /// With no flags it is an asynchronous request: the reply arrives later at `receive`. With
    /// `.releaseMessage` it is a datagram and no reply comes.
    ///
    /// - Returns: the request's id on this connection, for ``cancelRequest(_:)``; 0 for a datagram.
    /// - Throws: `.portMessageTooLong` when the message exceeds the port's maximum,
    ///   `.portDisconnected` when the server is gone.
    @discardableResult
    public func send(_ message: AlpcMessage, flags: MessageFlags = []) throws(NTStatus) -> UInt32 {
        let kind = flags.contains(.releaseMessage) ? ALPC_RECORD_DATAGRAM : ALPC_RECORD_ASYNC_REQUEST
        var unbounded = CallDeadline(after: nil)
        return try channel.send(message, kind: kind, awaitReply: false, deadline: &unbounded)
    }

    /// Cancels the asynchronous request `requestId` (as `NtAlpcCancelMessage` does): its
    /// reply is dropped, whether it is already queued or comes later. The server is not told.
    ///
    /// - Parameter requestId: what ``send(_:flags:)-3tm94`` returned for the request.
    /// - Throws: `.invalidMessage` for an id this client never gave out, or for a request a
    ///   thread waits for in `sendReceive`.
    public func cancelRequest(_ requestId: UInt32) throws(NTStatus) {
        try channel.cancel(cookie: requestId)
    }

    /// Receives the next message nobody else waits for: a reply to an asynchronous request, or
    /// a datagram (recv).
    ///
    /// - Throws: `.timeout`, `.portDisconnected`, or `.bufferTooSmall` (the message stays queued
    ///   and `message.port.totalLength` is the size it needs).
    @discardableResult
    @inlinable
    public func receive(into message: AlpcMessage? = nil, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        // Inlined, so that a caller that drops the result counts no reference for it.
        let message = message ?? AlpcMessage()
        try _receive(into: message, timeout: timeout)
        return message
    }

    /// Receives the next message nobody else waits for into `message`, which the caller keeps:
    /// as with an optional message, and the same message is returned. (Its own overload: one
    /// that takes an optional counts a reference for the message around the call.)
    @discardableResult
    @inlinable
    public func receive(into message: AlpcMessage, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        try _receive(into: message, timeout: timeout)
        return message
    }

    /// ``receive(into:timeout:)`` into a given message, returning nothing.
    @usableFromInline
    func _receive(into message: AlpcMessage, timeout: Duration?) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        try channel.receive(cookie: 0, into: message, deadline: &deadline)
    }

    /// Sends the request `message` and waits for its reply (send_receive).
    ///
    /// - Parameters:
    ///   - message: the request.
    ///   - receiveInto: the message the reply is received into; a new 4 KiB message when nil.
    ///   - flags: ALPC_MSGFLG_SYNC_REQUEST by default; without it this is `send` followed by `receive`.
    ///   - timeout: how long to wait for the reply.
    /// - Returns: the reply, Type `LPC_REPLY`, carrying the MessageId the server saw.
    @discardableResult
    @inlinable
    public func sendReceive(
        _ message: AlpcMessage, receiveInto: AlpcMessage? = nil, flags: MessageFlags = .syncRequest,
        timeout: Duration? = nil
    ) throws(NTStatus) -> AlpcMessage {
        // Inlined, so that a caller that drops the result counts no reference for it.
        let reply = receiveInto ?? AlpcMessage()
        try _sendReceive(message, receiveInto: reply, flags: flags, timeout: timeout)
        return reply
    }

    /// Sends the request `message` and waits for its reply, received into `receiveInto`, which
    /// the caller keeps (send_receive): as with an optional reply message, and the same message
    /// is returned. (Its own overload: one that takes an optional counts a reference for the
    /// reply message around the call.)
    @discardableResult
    @inlinable
    public func sendReceive(
        _ message: AlpcMessage, receiveInto: AlpcMessage, flags: MessageFlags = .syncRequest, timeout: Duration? = nil
    ) throws(NTStatus) -> AlpcMessage {
        try _sendReceive(message, receiveInto: receiveInto, flags: flags, timeout: timeout)
        return receiveInto
    }

    /// ``sendReceive(_:receiveInto:flags:timeout:)-(_,AlpcMessage?,_,_)`` into a given message,
    /// returning nothing.
    @usableFromInline
    func _sendReceive(
        _ message: AlpcMessage, receiveInto reply: AlpcMessage, flags: MessageFlags, timeout: Duration?
    ) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        guard flags.contains(.syncRequest), !flags.contains(.releaseMessage) else {
            // Not synchronous: a send, then the next message nobody else waits for.
            try send(message, flags: flags)
            try channel.receive(cookie: 0, into: reply, deadline: &deadline)
            return
        }
        let pending = try channel.sendRequest(message, deadline: &deadline)
        try channel.receive(pending, into: reply, deadline: &deadline)
    }

    /// Sends `data` as a request and waits for its reply (send_receive with bytes).
    @discardableResult
    public func sendReceive(_ data: some Collection<UInt8>, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        let message = AlpcMessage(size: max(0x1000, data.count + 0x200))
        try message.setData(Array(data))
        return try sendReceive(message, timeout: timeout)
    }

    /// Sends `text` (UTF-8) as a request and waits for its reply.
    @discardableResult
    public func sendReceive(_ text: String, timeout: Duration? = nil) throws(NTStatus) -> AlpcMessage {
        try sendReceive(Array(text.utf8), timeout: timeout)
    }

    // MARK: In place

    /// Sends a request whose data `fill` writes in place, and lends its reply in place to
    /// `reply`: neither message is copied.
    ///
    /// `fill` receives exactly `dataLength` writable bytes: the request's data in the
    /// connection's shared memory. `reply` receives the reply (Type `LPC_REPLY`, the MessageId
    /// the server saw) before its memory is reused, and its result is returned. Neither
    /// message carries attributes: use
    /// ``sendReceive(_:receiveInto:flags:timeout:)-(_,AlpcMessage?,_,_)`` for them.
    /// Neither closure may keep the memory it is given.
    ///
    /// - Parameters:
    ///   - dataLength: the request's data length, at most ``maxMessageLength`` less the 0x28-byte header.
    ///   - timeout: how long to wait for room and for the reply; nil waits without limit.
    ///   - fill: writes the request's data. When it throws, nothing is sent and its error is rethrown.
    ///   - reply: reads the reply. When it throws, the reply is consumed and its error is rethrown.
    /// - Throws: `.portMessageTooLong` when the message exceeds the connection's maximum and
    ///   `.invalidParameter` for a negative length (nothing is sent), `.timeout`,
    ///   `.portDisconnected` when the server is gone, or the closures' errors.
    @inlinable
    public func sendReceive<Result>(
        dataLength: Int, timeout: Duration? = nil,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void,
        reply: (ReceivedMessage) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        var result: Result?
        try _sendReceive(dataLength: dataLength, timeout: timeout, fill: fill) { (message) throws(NTStatus) in
            result = try reply(message)
        }
        guard let result else { throw .unsuccessful }
        return result
    }

    /// ``sendReceive(dataLength:timeout:fill:reply:)-2g3g8`` without its generic result.
    @usableFromInline
    func _sendReceive(
        dataLength: Int, timeout: Duration?,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void,
        reply: (ReceivedMessage) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        let pending = try channel.sendRequest(dataLength: dataLength, deadline: &deadline, fill: fill)
        try Self.lend { (sink: inout LendingSink) throws(NTStatus) in
            try channel.receive(
                cookie: pending.cookie, into: &sink, deadline: &deadline, holdsConsumerRole: pending.holdsConsumerRole,
                reader: reply)
        }
    }

    /// Sends a message without waiting, its data written in place by `fill` (see
    /// ``send(_:flags:)-3tm94``): with no flags an asynchronous request whose reply arrives at
    /// ``receive(timeout:_:)-3da09``, with `.releaseMessage` a datagram. The message carries no attributes.
    ///
    /// - Parameters:
    ///   - dataLength: the data length, at most ``maxMessageLength`` less the 0x28-byte header.
    ///   - flags: `.releaseMessage` for a datagram.
    ///   - fill: writes exactly `dataLength` bytes of data in place. When it throws, nothing is
    ///     sent and its error is rethrown.
    /// - Throws: `.portMessageTooLong`, `.invalidParameter` for a negative length,
    ///   `.portDisconnected` when the server is gone, or `fill`'s error.
    public func send(
        dataLength: Int, flags: MessageFlags = [], fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let kind = flags.contains(.releaseMessage) ? ALPC_RECORD_DATAGRAM : ALPC_RECORD_ASYNC_REQUEST
        var unbounded = CallDeadline(after: nil)
        _ = try channel.send(dataLength: dataLength, kind: kind, awaitReply: false, deadline: &unbounded, fill: fill)
    }

    /// Sends `count` datagrams of `dataLength` bytes each, their data written in place by
    /// `fill(index, data)`, publishing them in groups: every slot free in the request ring is
    /// filled, then the group is published with one store and at most one wake-up of the
    /// server, then the next group waits for room. A burst of small datagrams costs a fraction
    /// of sending them one by one. The datagrams carry no attributes.
    ///
    /// - Parameters:
    ///   - count: how many datagrams to send.
    ///   - dataLength: each datagram's data length, at most ``maxMessageLength`` less the
    ///     0x28-byte header.
    ///   - timeout: how long to wait for room in the ring, all groups together; nil waits
    ///     without limit.
    ///   - fill: writes exactly `dataLength` bytes of datagram `index` (0 ..< `count`). When it
    ///     throws, the datagrams before that one are sent and its error is rethrown.
    /// - Throws: `.portMessageTooLong`, `.invalidParameter` for a negative count or length,
    ///   `.timeout` when the server does not make room in time (the datagrams before are sent),
    ///   `.portDisconnected` when the server is gone, or `fill`'s error.
    public func sendDatagrams(
        count: Int, dataLength: Int, timeout: Duration? = nil,
        fill: (_ index: Int, _ data: UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        try channel.sendDatagrams(count: count, dataLength: dataLength, deadline: &deadline, fill: fill)
    }

    /// A file descriptor that is readable while a message may wait for
    /// ``receive(into:timeout:)-5jl38`` (a reply to an asynchronous request, or a datagram) and once
    /// the server has gone, for epoll, `poll` or an event loop. It belongs to the connection;
    /// do not close it.
    ///
    /// Readable means a receive may find a message: after a wake-up, receive with a zero
    /// timeout, and expect `.timeout` at times (as with a socket's `EAGAIN`). From the first
    /// call on, a message that arrives while no thread of this process receives costs the
    /// server one doorbell ring (an eventfd write).
    ///
    /// - Throws: `.insufficientResources` when the process is out of descriptors.
    public func pollDescriptor() throws(NTStatus) -> Int32 {
        try channel.pollDescriptor()
    }

    /// Waits until a message may be received (or the server has gone), without receiving
    /// it: true when one may, false when `timeout` passed first (nil waits without limit).
    /// Uses ``pollDescriptor()``.
    public func waitForMessage(timeout: Duration? = nil) throws(NTStatus) -> Bool {
        try channel.waitForMessage(timeout: timeout)
    }

    /// Lends the next message nobody else waits for (a reply to an asynchronous request, or a
    /// datagram) to `body` in place, and returns its result. The message carries no
    /// attributes; a message that had some loses them (use ``receive(into:timeout:)-5jl38`` for them).
    ///
    /// - Throws: `.timeout`, `.portDisconnected`, or `body`'s error (the message is consumed).
    @inlinable
    public func receive<Result>(
        timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        var result: Result?
        try _receive(timeout: timeout) { (message) throws(NTStatus) in result = try body(message) }
        guard let result else { throw .unsuccessful }
        return result
    }

    /// Lends the next message nobody else waits for to `body` in place, as the generic
    /// ``receive(timeout:_:)-3da09`` does, for a `body` that returns nothing (a datagram
    /// reader's loop): `body` is handed down as it is, with no result to carry back.
    ///
    /// - Throws: `.timeout`, `.portDisconnected`, or `body`'s error (the message is consumed).
    @inlinable
    public func receive(timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Void) throws(NTStatus) {
        try _receive(timeout: timeout, body)
    }

    /// ``receive(timeout:_:)-3da09`` without its generic result.
    @usableFromInline
    func _receive(timeout: Duration?, _ body: (ReceivedMessage) throws(NTStatus) -> Void) throws(NTStatus) {
        var deadline = CallDeadline(after: timeout)
        try Self.lend { (sink: inout LendingSink) throws(NTStatus) in
            try channel.receive(cookie: 0, into: &sink, deadline: &deadline, reader: body)
        }
    }

    /// Runs `receive` with a sink that lends its message to the reader `receive` passes down,
    /// and checks that it did.
    static func lend(_ receive: (inout LendingSink) throws(NTStatus) -> Void) throws(NTStatus) {
        var sink = LendingSink()
        try receive(&sink)
        guard sink.delivered else { throw .unsuccessful }
    }

    /// Disconnects; the server receives `LPC_PORT_CLOSED` and every later call fails with
    /// `STATUS_PORT_DISCONNECTED`.
    public func disconnect() {
        channel.close()
    }

    // MARK: Sections and views

    /// Creates a port section of at least `size` bytes (NtAlpcCreatePortSection,
    /// PythonForWindows' `create_port_section`).
    ///
    /// - Parameters:
    ///   - size: the bytes wanted; the section has whole pages.
    ///   - flags: 0 or `ALPC_CREATEPORTSECTIONFLG_SECURE`.
    /// - Returns: the section's handle and actual size.
    /// - Throws: `.sectionTooBig` above the client's `maxSectionSize` (or its
    ///   `maxTotalSectionSize` with the other sections), `.invalidParameter` for a size of 0 or
    ///   unknown flags.
    public func createPortSection(size: Int, flags: UInt32 = 0) throws(NTStatus) -> AlpcSection {
        try sections.create(size: size, flags: flags)
    }

    /// Creates a view of `size` bytes (0: the whole section) in `section`
    /// (NtAlpcCreateSectionView, PythonForWindows' `map_section`).
    ///
    /// Views of one section do not overlap: each takes the first free run of whole pages.
    ///
    /// - Throws: `.invalidHandle` for a section this client did not create,
    ///   `.invalidViewSize` above the client's `maxViewSize` or when the section has no room.
    public func createSectionView(_ section: AlpcSection, size: Int) throws(NTStatus) -> DataView {
        try sections.createView(section, size: size)
    }

    /// Deletes the view at `view.viewBase` (NtAlpcDeleteSectionView): a view this client
    /// created, or a view it received (its mapping is released).
    ///
    /// - Throws: `.invalidParameter` when no view starts there.
    public func deleteSectionView(_ view: DataView) throws(NTStatus) {
        try sections.deleteView(at: view.viewBase)
    }

    /// Deletes `section` and its views (NtAlpcDeletePortSection); a server that was sent it
    /// is told, and drops its mapping.
    ///
    /// - Throws: `.invalidHandle` for a section this client did not create.
    public func deletePortSection(_ section: AlpcSection) throws(NTStatus) {
        let id = try sections.delete(section)
        channel.notifySectionDeleted(id)
    }
}
