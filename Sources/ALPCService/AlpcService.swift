public import ALPC
public import ServiceLifecycle

/// An `AlpcServer` run as a swift-service-lifecycle `Service`: it serves the port with
/// `AlpcServer.run(maxConcurrentRequests:connection:handler:)` until the service group
/// shuts down.
///
/// On graceful shutdown (SIGTERM or SIGINT when the group is set up for them) the port stops
/// accepting connections, answers what its clients had already sent, then disconnects them
/// and the service returns. When the service's task is cancelled, it stops at once: the port
/// closes and clients waiting for replies get `STATUS_PORT_DISCONNECTED`.
///
/// ```swift
/// let server = try AlpcServer(portName: #"\RPC Control\Echo"#)
/// let service = AlpcService(server: server) { request in
///     try? AlpcMessage(string: "echo: " + request.string)
/// }
/// let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public struct AlpcService: Service {
    /// The port this service serves.
    public let server: AlpcServer
    private let maxConcurrentRequests: Int
    private let connection: @Sendable (AlpcMessage) -> ConnectionDecision
    private let handler: @Sendable (AlpcMessage) async -> AlpcMessage?

    /// A service that serves `server`: see
    /// `AlpcServer.run(maxConcurrentRequests:connection:handler:)` for the parameters.
    public init(
        server: AlpcServer,
        maxConcurrentRequests: Int = 64,
        connection: @escaping @Sendable (AlpcMessage) -> ConnectionDecision = { _ in .accept() },
        handler: @escaping @Sendable (AlpcMessage) async -> AlpcMessage?
    ) {
        self.server = server
        self.maxConcurrentRequests = maxConcurrentRequests
        self.connection = connection
        self.handler = handler
    }

    /// Serves the port until graceful shutdown (then drains and returns) or cancellation.
    ///
    /// - Throws: the `NTStatus` a receive failed with.
    public func run() async throws {
        let server = server
        try await withGracefulShutdownHandler {
            try await server.run(
                maxConcurrentRequests: maxConcurrentRequests, connection: connection, handler: handler)
        } onGracefulShutdown: {
            server.shutDownGracefully()
        }
    }
}
