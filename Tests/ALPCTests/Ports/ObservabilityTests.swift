@testable import ALPC
import CALPC
import Glibc
import Logging
import MetricsTestKit
import Synchronization
import Testing

extension PortsTests {
    /// swift-log lifecycle events and swift-metrics counters, observed through test backends
    /// (issue 11, item 4).
    @Suite("logging and metrics", .sharedPeers)
    struct ObservabilityTests {
        @Test("A server logs its lifecycle (never a message) and counts traffic, connections, deaths and violations")
        func serverTelemetry() throws {
            let logs = LogRecorder()
            let metrics = TestMetrics()
            let name = uniquePortName()
            let server = try AlpcServer(portName: name, logger: logs.logger, metricsFactory: metrics)
            let port = [("port", server.portName)]
            let stop = Atomic<Bool>(false)
            let serving = TestThread {
                while !stop.load(ordering: .relaxed) {
                    guard let message = try? server.receive(timeout: .milliseconds(50)) else { continue }
                    switch message.messageType.kind {
                    case .connectionRequest where message.string == "refuse me":
                        try? server.refuseConnection(message)
                    case .connectionRequest:
                        _ = try? server.acceptConnection(message)
                    case .request:
                        try? message.setData(PortsTests.standardReply(to: message.string))
                        try? server.send(message)
                    default:
                        break
                    }
                }
            }
            defer {
                stop.store(true, ordering: .relaxed)
                serving.join()
            }
            // An honest client: 20 requests, 3 datagrams, a disconnect.
            let honest = try PortsTests.startClient(name, ["--requests", "20", "--datagrams", "3"])
            try PortsTests.expectLine(honest, "DISCONNECTED")
            // A refused client, a client killed, a client that breaks the protocol.
            let refused = try PortsTests.startClient(name, ["--connect-data", "refuse me"])
            try PortsTests.expectLine(refused, "STATUS")
            let killed = try PortsTests.startClient(name, ["--after", "sleep"])
            try PortsTests.expectLine(killed, "SLEEPING")
            killed.kill(signal: SIGKILL)
            let hand = try HandClient(name)
            try hand.publishValid("unknown kind", kind: 0x77, cookie: 2)
            #expect(hand.waitUntilDropped())

            let died = try metrics.expectCounter("alpc_server_clients_died_total", port)
            let settled = ContinuousClock.now + .seconds(10)
            while died.totalValue < 2 && ContinuousClock.now < settled { usleep(10_000) }
            #expect(died.totalValue == 2)
            // The receiver hands its counts over when it goes to sleep (each 20 ms slice of it).
            let received = try metrics.expectCounter("alpc_server_messages_received_total", port)
            let replied = try metrics.expectCounter("alpc_server_replies_sent_total", port)
            while (received.totalValue < 23 || replied.totalValue < 20) && ContinuousClock.now < settled { usleep(10_000) }
            let requests = (0..<20).map { "request \(honest.pid) \($0)" }
            let datagrams = (0..<3).map { "datagram \($0)" }
            #expect(received.totalValue == 23)
            #expect(try metrics.expectCounter("alpc_server_bytes_received_total", port).totalValue
                == Int64((requests + datagrams).map(\.utf8.count).reduce(0, +)))
            #expect(replied.totalValue == 20)
            #expect(try metrics.expectCounter("alpc_server_bytes_sent_total", port).totalValue
                == Int64(requests.map { PortsTests.standardReply(to: $0).utf8.count }.reduce(0, +)))
            #expect(try metrics.expectCounter("alpc_server_connections_accepted_total", port).totalValue == 3)
            #expect(try metrics.expectCounter("alpc_server_connections_refused_total", port).totalValue == 1)
            #expect(try metrics.expectCounter("alpc_server_connections_closed_total", port).totalValue == 1)
            #expect(try metrics.expectCounter("alpc_server_protocol_violations_total", port).totalValue == 1)
            #expect(try metrics.expectGauge("alpc_server_connections", port).lastValue == 0)

            stop.store(true, ordering: .relaxed)
            serving.join()
            server.disconnect()
            let messages = logs.records.map(\.message)
            #expect(messages.first == "port created")
            #expect(messages.last == "port closed")
            #expect(messages.filter { $0 == "connection accepted" }.count == 3)
            #expect(messages.filter { $0 == "client disconnected" }.count == 1)
            #expect(messages.filter { $0 == "client died" }.count == 2)
            let refusal = logs.records.first { $0.message == "connection refused" }
            #expect(refusal?.level == .info)
            #expect(refusal?.metadata["alpc.peer.pid"] == "\(refused.pid)")
            let violation = logs.records.first { $0.message.hasPrefix("client broke the protocol") }
            #expect(violation?.level == .warning)
            #expect(violation?.metadata["alpc.peer.pid"] == "\(getpid())")
            // Lifecycle only: 23 messages and 20 replies made no line.
            #expect(logs.records.count == 10, "\(messages)")
        }

        @Test("A client counts calls that timed out or were cancelled")
        func clientTelemetry() async throws {
            let metrics = TestMetrics()
            let (server, client) = try await offPool { try PortsTests.connectedPair(metricsFactory: metrics) }
            let port = [("port", client.portName)]
            #expect(throws: NTStatus.timeout) { _ = try client.sendReceive("never answered", timeout: .milliseconds(20)) }
            await #expect(throws: NTStatus.timeout) { _ = try await client.sendReceive("never answered", timeout: .milliseconds(20)) }
            let call = Task { () async throws(NTStatus) -> String in try await client.sendReceive("cancelled").string }
            try await Task.sleep(for: .milliseconds(50))
            call.cancel()
            _ = await call.result
            #expect(try metrics.expectCounter("alpc_client_timeouts_total", port).totalValue == 2)
            #expect(try metrics.expectCounter("alpc_client_cancellations_total", port).totalValue == 1)
            client.disconnect()
            server.disconnect()
        }
    }
}

/// A swift-log backend that keeps every record, for tests.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    /// (`Locked`, not `Mutex`: see `HandlerCounts`.)
    private let storage = Locked<[Record]>([])

    var records: [Record] { storage.withLock { $0 } }

    /// A logger at level trace that records here.
    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ record: Record) { storage.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            recorder.append(
                LogRecorder.Record(
                    level: event.level, message: "\(event.message)",
                    metadata: all.mapValues { "\($0)" }))
        }
    }
}
