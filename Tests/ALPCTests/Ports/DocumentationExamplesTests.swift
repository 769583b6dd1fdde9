import ALPC
import ALPCService
import Glibc
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

extension PortsTests {
    /// The examples of the DocC articles "Using SwiftALPC with Swift Concurrency" and
    /// "Running a Server under ServiceLifecycle", as written there, run against real clients.
    @Suite("documentation examples", .sharedPeers)
    struct DocumentationExamples {
        @Test("Concurrency: the async client call, the messages loop and the handler form")
        func concurrencyArticle() async throws {
            let name = uniquePortName()
            let peer = try PortsTests.startServer(name, ["--quiet"])
            defer { peer.kill(signal: SIGKILL) }
            // The async client call.
            let client = try await offPool { try AlpcClient(portName: name, timeout: .seconds(10)) }
            let reply = try await client.sendReceive("Hello world !", timeout: .seconds(5))
            #expect(reply.string == "REQUEST 'Hello world !' DONE")
            client.disconnect()

            // The messages loop (ended here once its client has gone).
            let server = try AlpcServer(portName: uniquePortName())
            let echoed = try PortsTests.startClient(server.portName, ["--requests", "0", "--datagrams", "0"])
            defer { echoed.kill(signal: SIGKILL) }
            for try await message in server.messages {
                switch message.messageType.kind {
                case .connectionRequest: try server.acceptConnection(message)
                case .request: try server.send(message)  // echo
                default: break
                }
                if message.messageType.kind == .portClosed { break }
            }

            // The handler form, until a graceful shutdown.
            let running = Task {
                try await server.run(maxConcurrentRequests: 32) { request in
                    try? AlpcMessage(string: "echo: " + request.string)
                }
            }
            let caller = try await offPool { try AlpcClient(portName: server.portName, timeout: .seconds(10)) }
            #expect(try await caller.sendReceive("hi", timeout: .seconds(5)).string == "echo: hi")
            server.shutDownGracefully()
            try await running.value
        }

        @Test("ServiceLifecycle: the echo service in a ServiceGroup, shut down gracefully")
        func serviceLifecycleArticle() async throws {
            let portName = uniquePortName()
            let logger = Logger(label: "echo") { _ in SwiftLogNoOpLogHandler() }
            let server = try AlpcServer(portName: portName, logger: logger)
            let service = AlpcService(server: server, maxConcurrentRequests: 32) { request in
                try? AlpcMessage(string: "echo: " + request.string)
            }
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [service], gracefulShutdownSignals: [], logger: logger))
            let running = Task { try await group.run() }
            let client = try await offPool { try AlpcClient(portName: portName, timeout: .seconds(10)) }
            #expect(try await client.sendReceive("service", timeout: .seconds(5)).string == "echo: service")
            await group.triggerGracefulShutdown()
            try await running.value
            await #expect(throws: NTStatus.portDisconnected) { _ = try await client.sendReceive("late", timeout: .seconds(5)) }
        }
    }
}
