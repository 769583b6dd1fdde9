@testable import ALPC
import CALPC
import Glibc
import Synchronization
import Testing

extension PortsTests {
    /// Messages kept because their reader does not read them are bounded: replies a server
    /// keeps for clients whose rings are full (per client and per port, `MaxPoolUsage`), and
    /// messages a client keeps that nobody claimed (issue 10, items 4 and 5).
    @Suite("Queue quotas", .sharedPeers)
    struct QueueQuotaTests {
        /// The port's usage of its pool, in bytes.
        private static func pooled(_ server: AlpcServer) -> Int { server.core.controlPlane.quota.usage.pooled }

        /// Runs `body` while another thread receives on `server`: a client's reads ring the
        /// server's doorbell, and a receiving server then publishes the replies it kept.
        private static func whileReceiving(_ server: AlpcServer, _ body: () throws -> Void) throws {
            let stop = Atomic<Bool>(false)
            let receiver = TestThread {
                while !stop.load(ordering: .relaxed) { _ = try? server.receive(timeout: .milliseconds(20)) }
            }
            defer {
                stop.store(true, ordering: .relaxed)
                receiver.join()
            }
            try body()
        }

        /// Sends `message` as a reply: false when it is over quota.
        private static func reply(_ server: AlpcServer, _ message: AlpcMessage) throws -> Bool {
            do {
                try server.send(message)
                return true
            } catch .quotaExceeded {
                return false
            }
        }

        /// Accepts one connection request and answers every request of its client with "reply",
        /// until `requests` came; returns the requests whose reply was over quota, still unanswered.
        private static func answer(
            _ server: AlpcServer, requests: Int, answered: inout Int
        ) throws -> [AlpcMessage] {
            var refused: [AlpcMessage] = []
            var seen = 0
            while seen < requests {
                let message = try server.receive(timeout: .seconds(20))
                switch message.messageType.kind {
                case .connectionRequest:
                    try server.acceptConnection(message)
                case .request:
                    seen += 1
                    try message.setData("reply")
                    if try reply(server, message) {
                        answered += 1
                    } else {
                        refused.append(message)
                    }
                default:
                    throw Failure("unexpected \(message.messageType)")
                }
            }
            return refused
        }

        @Test("Replies kept for clients that do not read are bounded per client and per port; one over quota stays answerable")
        func repliesKeptForSlowClients() throws {
            let record = SlotRecord.slotLength(dataLength: 5, attributeLength: 0)
            var attributes = PortAttributes.server
            attributes.raw.MaxPoolUsage = UInt64(10 * record)
            let name = uniquePortName()
            let server = try AlpcServer(
                portName: name, attributes: attributes, access: .sameUser, quota: PortQuota(attributes: attributes))

            // A fills its 64-slot reply ring, then the port's pool of 10 replies; 6 are refused.
            let first = try startClient(name, ["--unread", "80", "--after", "sleep"])
            var answered = 0
            let refusedFirst = try Self.answer(server, requests: 80, answered: &answered)
            #expect(answered == 64 + 10)
            #expect(refusedFirst.count == 6)
            #expect(Self.pooled(server) == 10 * record)
            // A refused reply leaves its request answerable: trying again is over quota again,
            // not an unknown MessageId.
            #expect(throws: NTStatus.quotaExceeded) { try server.send(refusedFirst[0]) }

            // B gets its ring's 64, but nothing beyond: the port's pool is full.
            let second = try startClient(name, ["--unread", "70", "--after", "sleep"])
            answered = 0
            let refusedSecond = try Self.answer(server, requests: 70, answered: &answered)
            #expect(answered == 64)
            #expect(refusedSecond.count == 6)

            // A goes away: what it held returns to the pool, and B's reply now fits.
            first.kill(signal: SIGKILL)
            _ = first.waitForExit()
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .clientDied)
            #expect(Self.pooled(server) == 0)
            try server.send(refusedSecond[0])
            #expect(Self.pooled(server) == record)
            second.kill(signal: SIGKILL)
            _ = second.waitForExit()
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .clientDied)
            #expect(Self.pooled(server) == 0)
        }

        @Test("Replies kept while a client's ring is full reach it in order once it reads, and give their bytes back to the pool")
        func keptRepliesArriveInOrder() throws {
            let (server, client) = try PortsTests.connectedPair()
            // 64 replies fill the client's ring; the server keeps the other 36 for it. (One
            // request at a time: the request ring has 64 slots too.)
            let count = 100
            for index in 0..<count {
                try client.send(AlpcMessage(string: "request \(index)"))
                let request = try server.receive(timeout: .seconds(5))
                #expect(request.messageType.kind == .request)
                try request.setData("reply to " + request.string)
                try server.send(request)
            }
            #expect(Self.pooled(server) > 0)
            try Self.whileReceiving(server) {
                for index in 0..<count {
                    let reply = try client.receive(timeout: .seconds(5))
                    #expect(reply.messageType.kind == .reply)
                    #expect(reply.string == "reply to request \(index)")
                }
            }
            #expect(Self.pooled(server) == 0)
        }

        @Test("An in-place reply that fails while the client's ring is full is neither kept nor charged, and its request stays answerable")
        func failedKeptReply() throws {
            let (server, client) = try PortsTests.connectedPair()
            // 69 replies: 64 fill the client's ring, the server keeps 5; the 70th request waits.
            let count = 70
            var last: UInt32 = 0
            for index in 0..<count {
                try client.send(AlpcMessage(string: "request \(index)"))
                let messageId = try server.receive(timeout: .seconds(5)) { $0.messageId }
                if index == count - 1 {
                    last = messageId
                } else {
                    let text = Array("reply \(index)".utf8)
                    try server.reply(to: messageId, dataLength: text.count) { $0.copyBytes(from: text) }
                }
            }
            let pooled = Self.pooled(server)
            #expect(pooled > 0)
            #expect(throws: NTStatus.cancelled) {
                try server.reply(to: last, dataLength: 8) { (_) throws(NTStatus) in throw .cancelled }
            }
            #expect(Self.pooled(server) == pooled)
            let text = Array("reply \(count - 1)".utf8)
            try server.reply(to: last, dataLength: text.count) { $0.copyBytes(from: text) }
            #expect(Self.pooled(server) > pooled)
            try Self.whileReceiving(server) {
                for index in 0..<count {
                    let reply = try client.receive(timeout: .seconds(5))
                    #expect(reply.string == "reply \(index)")
                }
            }
            #expect(Self.pooled(server) == 0)
        }

        @Test("A client keeps at most its quota of messages nobody claimed; past it the connection ends with STATUS_QUOTA_EXCEEDED and what was kept is still received")
        func unclaimedMessagesOnTheClient() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            defer { peer.kill(signal: SIGKILL) }
            let client = try AlpcClient(
                portName: name, connectMessage: nil, attributes: .client, flags: .syncRequest,
                timeout: .seconds(10), quota: PortQuota(attributes: .client, maxQueuedPerPeer: 8))
            for index in 0..<20 {
                _ = try client.send(AlpcMessage(string: "unclaimed \(index)"))
            }
            // Waiting for its own reply, the client meets the 20 replies nobody claimed first.
            #expect(throws: NTStatus.quotaExceeded) { _ = try client.sendReceive("mine", timeout: .seconds(10)) }
            for index in 0..<8 {
                #expect(try client.receive(timeout: .zero).string == "REQUEST 'unclaimed \(index)' DONE")
            }
            #expect(throws: NTStatus.quotaExceeded) { _ = try client.receive(timeout: .zero) }
            #expect(throws: NTStatus.quotaExceeded) { _ = try client.sendReceive("again", timeout: .seconds(1)) }
        }
    }
}
