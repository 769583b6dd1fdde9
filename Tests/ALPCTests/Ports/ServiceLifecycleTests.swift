@testable import ALPC
import Glibc
import Testing

extension PortsTests {
    /// An `AlpcService` in a `ServiceGroup`, in its own process, shut down by SIGTERM with
    /// requests in flight (issue 11, item 2).
    @Suite("ServiceLifecycle", .sharedPeers)
    struct ServiceLifecycleTests {
        @Test("SIGTERM: the running and the queued requests are answered, then the port closes and the process exits 0")
        func gracefulShutdownOnSigterm() async throws {
            let name = uniquePortName()
            let peer = try PeerProcess(["service", name, "--handler-delay-ms", "300", "--max-concurrent", "1"])
            defer { peer.kill(signal: SIGKILL) }
            try await offPool { try PortsTests.expectLine(peer, "READY") }
            let client = try await offPool { try AlpcClient(portName: name, timeout: .seconds(10)) }
            // One request runs, two wait behind the limit of 1.
            for index in 0..<3 { _ = try await client.send(AlpcMessage(string: "in flight \(index)")) }
            try await offPool { try PortsTests.expectLine(peer, "HANDLING") }
            kill(peer.pid, SIGTERM)
            var replies: Set<String> = []
            for _ in 0..<3 { replies.insert(try await client.receive(timeout: .seconds(10)).string) }
            #expect(replies == Set((0..<3).map { "REQUEST 'in flight \($0)' DONE" }))
            try await offPool { try PortsTests.expectLine(peer, "STOPPED") }
            let status = try await offPool { peer.waitForExit(timeout: 10) }
            #expect(status.map { $0 & 0x7F == 0 && ($0 >> 8) & 0xFF == 0 } == true, "exit status \(String(describing: status))")
            // The port is gone: the connection is closed, the name free.
            await #expect(throws: NTStatus.portDisconnected) { _ = try await client.sendReceive("late", timeout: .seconds(5)) }
            await #expect(throws: NTStatus.objectNameNotFound) {
                _ = try await offPool { try AlpcClient(portName: name, timeout: .seconds(2)) }
            }
            client.disconnect()
        }
    }
}
