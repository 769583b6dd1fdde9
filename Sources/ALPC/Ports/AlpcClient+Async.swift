internal import CALPCSystem

extension AlpcClient {
    /// Sends the request `message` and waits for its reply without blocking a thread
    /// (send_receive, for Swift concurrency).
    ///
    /// The reply of a server awake on another CPU is taken after a spin of about 20 µs, as the
    /// blocking call takes it; otherwise the task is suspended, and one small reactor thread per
    /// process (sleeping in epoll on the connections' ``pollDescriptor()``) resumes it when the
    /// reply may have come. Many tasks may wait on one connection at once; each gets its own
    /// reply. Sending itself waits only when the request ring is full.
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
        let cookie = try channel.send(message, kind: ALPC_RECORD_REQUEST, awaitReply: true, deadline: deadline)
        try await channel.receiveAsync(cookie: cookie, into: reply, deadline: deadline)
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
        try await channel.receiveAsync(cookie: 0, into: message, deadline: AdaptiveWait.deadline(after: timeout))
        return message
    }
}
