internal import CALPCSystem

extension AlpcClient {
    /// Sends the request `message` and waits for its reply without blocking a thread
    /// (send_receive, for Swift concurrency).
    ///
    /// The reply of a server awake on another CPU is taken within a spin of about 50 µs, as the
    /// blocking call takes it; otherwise the task is suspended, and one small reactor thread per
    /// process (sleeping in epoll on the connections' ``pollDescriptor()``) resumes it when the
    /// reply may have come. Many tasks may wait on one connection at once; each gets its own
    /// reply. Sending waits only when the request ring is full, and then suspends the task too
    /// (see ``send(_:flags:)-6sag5``).
    ///
    /// Cancelling the task ends the call at once with `STATUS_CANCELLED`: the request cannot be
    /// taken back, but its reply is dropped when it comes, with everything that came with it.
    ///
    /// - Parameters:
    ///   - message: the request.
    ///   - reply: the message the reply is received into; a new 4 KiB message when nil.
    ///   - timeout: how long to wait for the reply; nil waits without limit.
    /// - Returns: the reply, Type `LPC_REPLY`, carrying the MessageId the server saw.
    /// - Throws: `.cancelled`, `.timeout` (the late reply is dropped), `.portDisconnected`,
    ///   `.bufferTooSmall`, or what sending throws.
    @discardableResult
    public func sendReceive(
        _ message: AlpcMessage, receiveInto reply: AlpcMessage? = nil, timeout: Duration? = nil
    ) async throws(NTStatus) -> AlpcMessage {
        let reply = reply ?? AlpcMessage()
        let deadline = AdaptiveWait.deadline(after: timeout)
        let cookie = try await channel.sendAsync(deadline: deadline) { (room: inout CallDeadline) throws(NTStatus) in
            try channel.send(message, kind: ALPC_RECORD_REQUEST, awaitReply: true, deadline: &room)
        }
        var sink = CopyingSink(message: reply)
        try await channel.receiveAsync(cookie: cookie, into: &sink, deadline: deadline)
        return reply
    }

    /// Sends `text` (UTF-8) as a request and waits for its reply without blocking a thread:
    /// see the async `sendReceive(_:receiveInto:timeout:)`.
    @discardableResult
    public func sendReceive(_ text: String, timeout: Duration? = nil) async throws(NTStatus) -> AlpcMessage {
        try await sendReceive(AlpcMessage(string: text), timeout: timeout)
    }

    /// Receives the next message nobody else waits for (a reply to an asynchronous request,
    /// or a datagram) without blocking a thread: the task is suspended until one may have
    /// come, as for the async `sendReceive(_:receiveInto:timeout:)`.
    ///
    /// - Throws: `.cancelled`, `.timeout`, `.portDisconnected`, or `.bufferTooSmall` (the
    ///   message stays queued).
    @discardableResult
    public func receive(into message: AlpcMessage? = nil, timeout: Duration? = nil) async throws(NTStatus) -> AlpcMessage {
        let message = message ?? AlpcMessage()
        var sink = CopyingSink(message: message)
        try await channel.receiveAsync(cookie: 0, into: &sink, deadline: AdaptiveWait.deadline(after: timeout))
        return message
    }

    /// Sends `message` without waiting for a reply (send, for Swift concurrency): an
    /// asynchronous request whose reply arrives at `receive`, or with `.releaseMessage` a
    /// datagram. Only a full request ring makes it wait, and then the task is suspended, not
    /// the thread.
    ///
    /// - Returns: the request's id, for ``cancelRequest(_:)``; 0 for a datagram.
    /// - Throws: `.cancelled` (nothing was sent), `.portMessageTooLong`, `.portDisconnected`.
    @discardableResult
    public func send(_ message: AlpcMessage, flags: MessageFlags = []) async throws(NTStatus) -> UInt32 {
        let kind = flags.contains(.releaseMessage) ? ALPC_RECORD_DATAGRAM : ALPC_RECORD_ASYNC_REQUEST
        return try await channel.sendAsync(deadline: nil) { (room: inout CallDeadline) throws(NTStatus) in
            try channel.send(message, kind: kind, awaitReply: false, deadline: &room)
        }
    }

    /// The in-place ``send(dataLength:flags:fill:)``, waiting for room in the request ring
    /// without blocking a thread.
    ///
    /// - Throws: as the blocking call, and `.cancelled` when the task is cancelled while the
    ///   ring is full (nothing was sent).
    public func send(
        dataLength: Int, flags: MessageFlags = [], fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) async throws(NTStatus) {
        let kind = flags.contains(.releaseMessage) ? ALPC_RECORD_DATAGRAM : ALPC_RECORD_ASYNC_REQUEST
        _ = try await channel.sendAsync(deadline: nil) { (room: inout CallDeadline) throws(NTStatus) in
            try channel.send(dataLength: dataLength, kind: kind, awaitReply: false, deadline: &room, fill: fill)
        }
    }

    /// The in-place request and reply of ``sendReceive(dataLength:timeout:fill:reply:)-2g3g8``,
    /// waiting without blocking a thread: neither message is copied.
    ///
    /// - Throws: as the blocking call, and `.cancelled` when the task is cancelled (the
    ///   reply is dropped when it comes).
    public func sendReceive<Result>(
        dataLength: Int, timeout: Duration? = nil,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void,
        reply: (ReceivedMessage) throws(NTStatus) -> Result
    ) async throws(NTStatus) -> Result {
        let deadline = AdaptiveWait.deadline(after: timeout)
        let cookie = try await channel.sendAsync(deadline: deadline) { (room: inout CallDeadline) throws(NTStatus) in
            try channel.send(dataLength: dataLength, kind: ALPC_RECORD_REQUEST, awaitReply: true, deadline: &room, fill: fill)
        }
        var result: Result?
        var sink = LendingSink()
        try await channel.receiveAsync(cookie: cookie, into: &sink, deadline: deadline) { (message) throws(NTStatus) in
            result = try reply(message)
        }
        guard sink.delivered, let result else { throw .unsuccessful }
        return result
    }

    /// The in-place ``receive(timeout:_:)-3da09``, waiting without blocking a thread.
    ///
    /// - Throws: as the blocking call, and `.cancelled` when the task is cancelled.
    public func receive<Result>(
        timeout: Duration? = nil, _ body: (ReceivedMessage) throws(NTStatus) -> Result
    ) async throws(NTStatus) -> Result {
        let deadline = AdaptiveWait.deadline(after: timeout)
        var result: Result?
        var sink = LendingSink()
        try await channel.receiveAsync(cookie: 0, into: &sink, deadline: deadline) { (message) throws(NTStatus) in
            result = try body(message)
        }
        guard sink.delivered, let result else { throw .unsuccessful }
        return result
    }
}
