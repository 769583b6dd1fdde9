internal import CALPCSystem

extension AlpcServer {
    /// The messages of every client, received one at a time as the loop asks for them:
    /// connection requests, requests, datagrams and lifecycle messages, each in a new message
    /// of the port's maximum length.
    ///
    /// Nothing is taken from the clients' rings before the loop asks for it, so a loop that
    /// falls behind slows its clients down (their sends wait for room) rather than filling
    /// memory. The sequence ends when the port is closed or the iterating task is cancelled.
    ///
    /// ```swift
    /// for try await message in server.messages {
    ///     switch message.messageType.kind {
    ///     case .connectionRequest: try server.acceptConnection(message)
    ///     case .request: try server.send(message)   // echo
    ///     default: break
    ///     }
    /// }
    /// ```
    public var messages: Messages { Messages(server: self) }

    /// The messages of an ``AlpcServer``, as an `AsyncSequence`: see ``AlpcServer/messages``.
    public struct Messages: AsyncSequence, Sendable {
        /// A received message.
        public typealias Element = AlpcMessage
        /// What a receive throws.
        public typealias Failure = NTStatus

        let server: AlpcServer

        /// The iterator that receives the messages.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(server: server) }

        /// Receives the next message each time it is asked.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let server: AlpcServer

            /// The next message; nil once the port is closed or the task is cancelled.
            ///
            /// A message that is already queued, or that a client awake on another CPU sends
            /// within about 50 µs (as long as the blocking receive spins), is taken without
            /// suspending; otherwise
            /// the task is suspended (no thread waits), and the process's reactor thread resumes
            /// it when the port's epoll set becomes readable. While the port has no receiver, its
            /// clients ring its doorbell for each message (one eventfd write each).
            ///
            /// - Throws: what a receive throws, but for the end of the port or of the task (each
            ///   message has the port's maximum length, so never `.bufferTooSmall`).
            public func next() async throws(NTStatus) -> sending AlpcMessage? {
                try await server.nextMessage()
            }

            /// The next message, received from `actor`'s isolation: see ``next()``.
            public func next(isolation actor: isolated (any Actor)?) async throws(NTStatus) -> sending AlpcMessage? {
                try await server.nextMessage()
            }
        }
    }
}

extension AlpcServer {
    /// The next message of ``messages``, in a new message; nil once the port is closed or the
    /// task is cancelled.
    nonisolated func nextMessage() async throws(NTStatus) -> sending AlpcMessage? {
        let message = AlpcMessage(size: core.maxMessageLength)
        var sink = CopyingSink(message: message)
        do {
            try await receiver.receiveAsync(into: &sink, deadline: nil)
            return message
        } catch .portDisconnected, .cancelled {
            return nil
        }
    }
}

/// What a server running ``AlpcServer/run(maxConcurrentRequests:connection:handler:)`` does
/// with a connection request.
public enum ConnectionDecision: Sendable {
    /// Accepts the connection with these attributes and port context (see
    /// ``AlpcServer/acceptConnection(_:attributes:portContext:)``); the request's data, as the
    /// decision left it, goes back to the client as the connection reply.
    case accept(attributes: PortAttributes = .accept, portContext: UInt64 = 0)
    /// Refuses the connection; the client's connect fails with `status`.
    case refuse(NTStatus = .portConnectionRefused)
}

extension AlpcServer {
    /// Serves the port until it is closed, shut down gracefully, or the task is cancelled:
    /// decides every connection request with `connection`, and hands every other message
    /// (requests, datagrams, lifecycle messages) to `handler`, up to `maxConcurrentRequests`
    /// handlers running at once, each in a child task.
    ///
    /// The message a handler returns for a request is sent as its reply (with the request's
    /// MessageId); for other messages the result is ignored. A handler that returns nil for a
    /// request leaves it unanswered, to answer later with ``send(_:flags:)``. While
    /// `maxConcurrentRequests` handlers run, nothing more is received, so clients slow down
    /// rather than memory filling up.
    ///
    /// ``shutDownGracefully()`` ends the run in order: the port's name is freed (new clients
    /// find no port), what the clients had already sent is received and handled (connection
    /// requests refused), every handler finishes and its reply is sent, then the port is
    /// closed and the run returns. Cancelling the task ends it at once: handlers are
    /// cancelled and the port is closed, so clients waiting for replies get
    /// `STATUS_PORT_DISCONNECTED`. While it runs, the run should be the port's only receiver:
    /// another one takes messages it would have handled.
    ///
    /// ```swift
    /// try await server.run(maxConcurrentRequests: 32) { request in
    ///     try? AlpcMessage(string: "echo: " + request.string)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - maxConcurrentRequests: the most handlers running at once, at least 1.
    ///   - connection: decides a connection request; accepts every one by default.
    ///   - handler: handles one message; returns the reply to a request.
    /// - Throws: `.invalidParameter` for a limit below 1, or what a receive throws but for the
    ///   port's end or of the task.
    public func run(
        maxConcurrentRequests: Int = 64,
        connection: @escaping @Sendable (AlpcMessage) -> ConnectionDecision = { _ in .accept() },
        handler: @escaping @Sendable (AlpcMessage) async -> AlpcMessage?
    ) async throws(NTStatus) {
        guard maxConcurrentRequests >= 1 else { throw .invalidParameter }
        let failure: NTStatus? = await withTaskGroup(of: Void.self) { group in
            var running = 0
            var failure: NTStatus?
            var draining = false
            var drainDeadline: UInt64 = 0
            serving: while true {
                if running >= maxConcurrentRequests {
                    await group.next()
                    running -= 1
                }
                if !draining && shutdown.fired {
                    // Graceful shutdown: no new clients; what was sent is still handled.
                    draining = true
                    drainDeadline = alpc_now_ns() &+ Self.shutdownDrainNanos
                    _ = core.controlPlane.stopListening()
                }
                let message = AlpcMessage(size: core.maxMessageLength)
                switch await nextForRun(into: message, drainUntil: draining ? drainDeadline : nil) {
                case .received: break
                case .shuttingDown: continue
                case .ended: break serving
                case .failed(let error):
                    failure = error
                    break serving
                }
                if message.messageType.kind == .connectionRequest {
                    decide(message, draining ? .refuse(.portConnectionRefused) : connection(message))
                    continue
                }
                running += 1
                group.addTask { [self] in
                    guard let reply = await handler(message), message.messageType.kind == .request else { return }
                    reply.port.messageId = message.port.messageId
                    // The client may be gone, or the reply over quota: nothing to tell it then.
                    try? send(reply)
                }
            }
            if Task.isCancelled { group.cancelAll() }
            await group.waitForAll()
            return failure
        }
        disconnect()
        if let failure { throw failure }
    }

    /// Ends a running ``run(maxConcurrentRequests:connection:handler:)`` gracefully: no new
    /// connections, what clients already sent is handled and answered, then the port closes
    /// and the run returns. A run started later ends the same way at once. Callable from any
    /// thread, any number of times.
    public func shutDownGracefully() {
        shutdown.fire()
    }

    /// What one receive of a running server came to.
    private enum RunStep {
        /// A message was received.
        case received
        /// A graceful shutdown began: drain what is queued.
        case shuttingDown
        /// Nothing more to receive: the port closed, the task was cancelled, or the drain ended.
        case ended
        /// The receive failed.
        case failed(NTStatus)
    }

    /// Receives the next message of a running server into `message`: waits without a thread
    /// while serving, takes only what is queued while draining (until `drainUntil`).
    private func nextForRun(into message: AlpcMessage, drainUntil: UInt64?) async -> RunStep {
        var sink = CopyingSink(message: message)
        do throws(NTStatus) {
            if let drainUntil {
                guard alpc_now_ns() < drainUntil else { return .ended }
                var immediately = CallDeadline(after: .zero)
                try receiver.receive(into: &sink, deadline: &immediately)
            } else {
                try await receiver.receiveAsync(into: &sink, deadline: nil, interrupt: shutdown)
            }
            return .received
        } catch {
            switch error {
            case .timeout where drainUntil != nil: return .ended
            case .cancelled where !Task.isCancelled: return .shuttingDown
            case .cancelled, .portDisconnected: return .ended
            default: return .failed(error)
            }
        }
    }

    /// The longest a graceful shutdown goes on receiving what clients had sent.
    static let shutdownDrainNanos: UInt64 = 2_000_000_000

    /// Accepts or refuses the connection request `request` as `decision` says; a failure only
    /// concerns that client.
    private func decide(_ request: AlpcMessage, _ decision: ConnectionDecision) {
        switch decision {
        case .accept(let attributes, let portContext):
            _ = try? acceptConnection(request, attributes: attributes, portContext: portContext)
        case .refuse(let status):
            try? refuseConnection(request, status: status)
        }
    }
}
