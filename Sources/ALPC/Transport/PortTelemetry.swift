internal import Logging
internal import Metrics
internal import Synchronization

/// What a server port tells its operator: lifecycle events through swift-log, and counters
/// and a gauge through swift-metrics, every one with the dimension `port` (the port's name).
///
/// Nothing here runs per message: the receiving thread adds what it delivered to counts of
/// its own and hands them over (``flushTraffic(messages:bytes:replies:replyBytes:)``) every
/// few thousand messages and whenever it goes to sleep, with the replies the connections'
/// writers counted meanwhile (``WrittenTraffic``; a reply, sent from any thread, takes its
/// writer's lock anyway).
final class PortTelemetry: Sendable {
    let logger: Logger
    private let messagesReceived: Counter
    private let bytesReceived: Counter
    private let repliesSent: Counter
    private let bytesSent: Counter
    private let accepted: Counter
    private let refused: Counter
    private let closed: Counter
    private let died: Counter
    private let violations: Counter
    private let open: Gauge
    private let openCount = Atomic<Int>(0)

    init(portName: String, logger: Logger, metricsFactory: any MetricsFactory) {
        var logger = logger
        logger[metadataKey: "alpc.port"] = "\(portName)"
        self.logger = logger
        let port = [("port", portName)]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: port, factory: metricsFactory) }
        messagesReceived = counter("alpc_server_messages_received_total")
        bytesReceived = counter("alpc_server_bytes_received_total")
        repliesSent = counter("alpc_server_replies_sent_total")
        bytesSent = counter("alpc_server_bytes_sent_total")
        accepted = counter("alpc_server_connections_accepted_total")
        refused = counter("alpc_server_connections_refused_total")
        closed = counter("alpc_server_connections_closed_total")
        died = counter("alpc_server_clients_died_total")
        violations = counter("alpc_server_protocol_violations_total")
        open = Gauge(label: "alpc_server_connections", dimensions: port, factory: metricsFactory)
    }

    // MARK: Traffic

    /// Hands the receiver's counts of messages and data bytes delivered, and of replies and
    /// their data bytes sent, to the counters.
    func flushTraffic(messages: UInt64, bytes: UInt64, replies: UInt64, replyBytes: UInt64) {
        if messages > 0 {
            messagesReceived.increment(by: Int64(clamping: messages))
            bytesReceived.increment(by: Int64(clamping: bytes))
        }
        if replies > 0 {
            repliesSent.increment(by: Int64(clamping: replies))
            bytesSent.increment(by: Int64(clamping: replyBytes))
        }
    }

    // MARK: Lifecycle

    func portCreated(maxMessageLength: Int) {
        logger.info("port created", metadata: ["alpc.max_message_length": "\(maxMessageLength)"])
    }

    func portClosed() {
        logger.info("port closed")
    }

    func connectionAccepted(_ peer: PeerCredentials) {
        accepted.increment()
        open.record(openCount.add(1, ordering: .relaxed).newValue)
        logger.debug("connection accepted", metadata: Self.metadata(peer))
    }

    func connectionRefused(pid: Int32, status: NTStatus) {
        refused.increment()
        logger.info("connection refused", metadata: ["alpc.peer.pid": "\(pid)", "alpc.status": "\(status)"])
    }

    /// An accepted connection ended: the client disconnected (`clientDied` false) or died.
    func connectionEnded(_ peer: PeerCredentials, clientDied: Bool) {
        open.record(openCount.subtract(1, ordering: .relaxed).newValue)
        if clientDied {
            died.increment()
            logger.notice("client died", metadata: Self.metadata(peer))
        } else {
            closed.increment()
            logger.debug("client disconnected", metadata: Self.metadata(peer))
        }
    }

    /// The server closed an accepted connection (the application disconnected it, or closed
    /// the port).
    func connectionClosedByServer() {
        open.record(openCount.subtract(1, ordering: .relaxed).newValue)
    }

    /// The server ended a connection whose client broke the protocol (`what`).
    func protocolViolation(_ peer: PeerCredentials, _ what: String) {
        violations.increment()
        var metadata = Self.metadata(peer)
        metadata["alpc.violation"] = "\(what)"
        logger.warning("client broke the protocol; connection closed", metadata: metadata)
    }

    private static func metadata(_ peer: PeerCredentials) -> Logger.Metadata {
        ["alpc.peer.pid": "\(peer.pid)", "alpc.peer.uid": "\(peer.uid)"]
    }
}

/// A logger that drops everything: the default of a port given none.
let disabledLogger = Logger(label: "alpc") { _ in SwiftLogNoOpLogHandler() }

/// What a client connection tells its operator: its lifecycle through swift-log, and counters
/// of the calls that did not end with their reply (`alpc_client_timeouts_total`,
/// `alpc_client_cancellations_total`) and of connections the server ended
/// (`alpc_client_server_disconnects_total`), each with the dimension `port`. Only failures are
/// counted: a reply costs nothing here.
final class ClientTelemetry: Sendable {
    let logger: Logger
    private let timeouts: Counter
    private let cancellations: Counter
    private let serverDisconnects: Counter

    init(portName: String, logger: Logger, metricsFactory: any MetricsFactory) {
        var logger = logger
        logger[metadataKey: "alpc.port"] = "\(portName)"
        self.logger = logger
        let port = [("port", portName)]
        timeouts = Counter(label: "alpc_client_timeouts_total", dimensions: port, factory: metricsFactory)
        cancellations = Counter(label: "alpc_client_cancellations_total", dimensions: port, factory: metricsFactory)
        serverDisconnects = Counter(label: "alpc_client_server_disconnects_total", dimensions: port, factory: metricsFactory)
    }

    /// A call waiting for its reply ended with `status` before the reply came.
    func callEnded(_ status: NTStatus) {
        if status == .timeout { timeouts.increment() }
        if status == .cancelled { cancellations.increment() }
    }

    func connected(server: PeerCredentials) {
        logger.debug("connected", metadata: ["alpc.server.pid": "\(server.pid)"])
    }

    /// The connection ended: closed by this side, or found ended by the server (`status`).
    func closed(byServer: Bool, status: NTStatus) {
        if byServer {
            serverDisconnects.increment()
            logger.notice("server ended the connection", metadata: ["alpc.status": "\(status)"])
        } else {
            logger.debug("disconnected")
        }
    }
}
