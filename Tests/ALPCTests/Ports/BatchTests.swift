import ALPC
import CALPC
import Glibc
import Testing

extension PortsTests {
    /// Many datagrams per call: a client publishes a group with one store, a server drains a
    /// client's burst with one release (issue 9, item 4).
    @Suite("Batches", .sharedPeers)
    struct BatchTests {
        @Test("5,000 datagrams sent in groups by a peer arrive whole and in order, drained in batches")
        func datagramsInBatches() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--batch-datagrams", "5000", "--after", "disconnect"])
            let request = try server.receive(timeout: .seconds(10))
            #expect(request.messageType.kind == .connectionRequest)
            try server.acceptConnection(request)
            var received: [String] = []
            var largestBatch = 0
            var other: [MessageType.Kind] = []
            // A batch takes its messages' MessageIds together: each still has its own, and
            // names its sender while the batch is being read.
            var messageIds = Set<UInt32>()
            var wrongSenders = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while received.count < 5000 && ContinuousClock.now < deadline {
                let count = try server.receive(upTo: 64, timeout: .seconds(10)) { message in
                    messageIds.insert(message.messageId)
                    if (try? server.senderCredentials(messageId: message.messageId))?.processId != peer.pid {
                        wrongSenders += 1
                    }
                    if message.messageType.kind == .datagram {
                        received.append(String(decoding: message.data, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))
                    } else {
                        other.append(message.messageType.kind)
                    }
                }
                largestBatch = max(largestBatch, count)
            }
            #expect(received.count == 5000)
            #expect(received == (0..<5000).map { "batch \($0)" })
            #expect(largestBatch > 1, "every receive delivered one message")
            #expect(largestBatch <= 64)
            #expect(other.isEmpty)
            #expect(messageIds.count == 5000)
            #expect(!messageIds.contains(0))
            #expect(wrongSenders == 0)
            try expectLine(peer, "BATCH 5000")
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .portClosed)
        }

        @Test("A fill that throws sends the datagrams before it; a body that throws stops the batch after its message")
        func failuresInBatches() throws {
            let (server, client) = try PortsTests.connectedPair()
            #expect(throws: NTStatus.invalidParameter) {
                try client.sendDatagrams(count: 10, dataLength: 4) { (index, data) throws(NTStatus) in
                    if index == 6 { throw .invalidParameter }
                    data.storeBytes(of: UInt32(index), as: UInt32.self)
                }
            }
            #expect(throws: NTStatus.portMessageTooLong) {
                try client.sendDatagrams(count: 1, dataLength: 0x1000) { _, _ in }
            }
            // Six arrived; a body that fails on the second stops there, the rest stay queued.
            var seen: [UInt32] = []
            #expect(throws: NTStatus.cancelled) {
                try server.receive(upTo: 10, timeout: .seconds(10)) { (message) throws(NTStatus) in
                    seen.append(message.data.loadUnaligned(as: UInt32.self))
                    if seen.count == 2 { throw .cancelled }
                }
            }
            #expect(seen == [0, 1])
            let rest = try server.receive(upTo: 10, timeout: .seconds(10)) { message in
                seen.append(message.data.loadUnaligned(as: UInt32.self))
            }
            #expect(rest == 4)
            #expect(seen == [0, 1, 2, 3, 4, 5])
            #expect(throws: NTStatus.invalidParameter) { try server.receive(upTo: 0) { _ in } }
            client.disconnect()
        }
    }
}
