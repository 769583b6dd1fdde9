@testable import ALPC
import Glibc
import Synchronization
import Testing

extension PortsTests {
    /// The async server: its messages as an AsyncSequence, the handler form with a concurrency
    /// limit, graceful shutdown and cancellation, against client processes (issue 11, item 2).
    @Suite("async server", .sharedPeers)
    struct AsyncServerTests {
        @Test("for-await over server.messages serves three client processes: connections, requests, datagrams, closes")
        func messagesSequence() async throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let clients = try (0..<3).map { _ in
                try PortsTests.startClient(name, ["--requests", "50", "--datagrams", "5"])
            }
            defer { for client in clients { client.kill(signal: SIGKILL) } }
            var connections = 0, requests = 0, datagrams = 0, closed = 0
            for try await message in server.messages {
                switch message.messageType.kind {
                case .connectionRequest:
                    try server.acceptConnection(message)
                    connections += 1
                case .request:
                    try message.setData(PortsTests.standardReply(to: message.string))
                    try server.send(message)
                    requests += 1
                case .datagram:
                    datagrams += 1
                case .portClosed, .clientDied:
                    closed += 1
                default:
                    Issue.record("unexpected \(message.messageType.kind)")
                }
                if closed == 3 { break }
            }
            #expect(connections == 3 && requests == 150 && datagrams == 15)
            for client in clients { try await offPool { try PortsTests.expectLine(client, "REPLIES 50") } }
            server.disconnect()
        }

        @Test("The sequence ends when the port is closed, and when its task is cancelled")
        func sequenceEnds() async throws {
            let server = try AlpcServer(portName: uniquePortName())
            let iterate = { @Sendable () async throws(NTStatus) -> Int in
                var count = 0
                for try await _ in server.messages { count += 1 }
                return count
            }
            let cancelled = Task { try await iterate() }
            try await Task.sleep(for: .milliseconds(100))
            var start = ContinuousClock.now
            cancelled.cancel()
            #expect(try await cancelled.value == 0)
            #expect(ContinuousClock.now - start < .seconds(1))

            let closed = Task { try await iterate() }
            try await Task.sleep(for: .milliseconds(100))
            start = ContinuousClock.now
            server.disconnect()
            #expect(try await closed.value == 0)
            #expect(ContinuousClock.now - start < .seconds(1))
        }

        @Test("run answers eight client processes with at most maxConcurrentRequests handlers at once")
        func handlerConcurrencyLimit() async throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let state = HandlerCounts()
            let run = Task {
                try await server.run(maxConcurrentRequests: 3) { request in
                    guard request.messageType.kind == .request else { return nil }
                    state.begin()
                    try? await Task.sleep(for: .milliseconds(5))
                    state.end()
                    return try? AlpcMessage(string: PortsTests.standardReply(to: request.string))
                }
            }
            let clients = try (0..<8).map { _ in try PortsTests.startClient(name, ["--requests", "10"]) }
            defer { for client in clients { client.kill(signal: SIGKILL) } }
            for client in clients { try await offPool { try PortsTests.expectLine(client, "REPLIES 10", timeout: 30) } }
            server.shutDownGracefully()
            try await run.value
            #expect(state.total == 80)
            #expect(state.peak == 3, "at most 3 at once, and the limit is reached with 8 clients")
        }

        @Test("Graceful shutdown: queued and running requests are answered, new clients find no port, then the run returns")
        func gracefulShutdown() async throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let started = Atomic<Int>(0)
            let run = Task {
                try await server.run(maxConcurrentRequests: 1) { request in
                    guard request.messageType.kind == .request else { return nil }
                    started.add(1, ordering: .relaxed)
                    try? await Task.sleep(for: .milliseconds(200))
                    return try? AlpcMessage(string: "answered " + request.string)
                }
            }
            let client = try await offPool { try AlpcClient(portName: name, timeout: .seconds(10)) }
            // Three requests in flight: one handled, two queued behind the limit of 1.
            for index in 0..<3 { _ = try await client.send(AlpcMessage(string: "r\(index)")) }
            let deadline = ContinuousClock.now + .seconds(10)
            while started.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            server.shutDownGracefully()
            var answers: [String] = []
            for _ in 0..<3 { answers.append(try await client.receive(timeout: .seconds(5)).string) }
            #expect(Set(answers) == ["answered r0", "answered r1", "answered r2"])
            try await run.value
            await #expect(throws: NTStatus.objectNameNotFound) {
                _ = try await offPool { try AlpcClient(portName: name, timeout: .seconds(2)) }
            }
            await #expect(throws: NTStatus.portDisconnected) { _ = try await client.sendReceive("after", timeout: .seconds(5)) }
            client.disconnect()
        }

        @Test("Cancelling run closes the port at once: a client waiting for its reply gets PORT_DISCONNECTED")
        func cancelRun() async throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let run = Task {
                try await server.run { request in
                    guard request.messageType.kind == .request else { return nil }
                    try? await Task.sleep(for: .seconds(30))
                    return nil
                }
            }
            let client = try PortsTests.startClient(name, ["--after", "hang"])
            defer { client.kill(signal: SIGKILL) }
            try await offPool { try PortsTests.expectLine(client, "WAITING") }
            try await Task.sleep(for: .milliseconds(100))
            let start = ContinuousClock.now
            run.cancel()
            try await run.value
            #expect(ContinuousClock.now - start < .seconds(2))
            let status = try await offPool { try PortsTests.expectLine(client, "STATUS") }
            #expect(status.contains("PORT_DISCONNECTED"), "\(status)")
        }
    }

    /// The reactor's idle cost, alone among the gated tests: it counts the process's reactor
    /// wake-ups, which any other async test would add to.
    @Suite("async server idle", .serialized, .exclusivePeers)
    struct AsyncServerIdleTests {
        @Test("A task waiting without a deadline costs the reactor no wake-up")
        func idleWaitCostsNothing() async throws {
            let server = try AlpcServer(portName: uniquePortName())
            defer { server.disconnect() }
            let waiting = Task { () async throws(NTStatus) -> Int in
                var count = 0
                for try await _ in server.messages { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(100))
            let before = PollReactor.shared.wakeupCount
            try await Task.sleep(for: .milliseconds(300))
            #expect(PollReactor.shared.wakeupCount - before <= 1, "an idle server's wait must not poll")
            waiting.cancel()
            _ = try await waiting.value
        }

    }
}

/// Counts the handlers running at once, and the most at any time. (A pthread lock, `Locked`:
/// a contended `Synchronization.Mutex` is taken in the kernel with a PI futex, which
/// ThreadSanitizer does not see, so it reports the accesses the mutex guards as races.)
private final class HandlerCounts: Sendable {
    private let counts = Locked((running: 0, peak: 0, total: 0))

    func begin() {
        counts.withLock {
            $0.running += 1
            $0.total += 1
            $0.peak = max($0.peak, $0.running)
        }
    }

    func end() { counts.withLock { $0.running -= 1 } }
    var peak: Int { counts.withLock { $0.peak } }
    var total: Int { counts.withLock { $0.total } }
}
