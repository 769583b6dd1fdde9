import ALPC
import Glibc
import Synchronization
import Testing

extension PortsTests {
    /// What the server's ledger keeps without a lock: pending requests, taken by exactly one
    /// reply each, and the senders of recent messages, read while they are rewritten.
    @Suite("Ledger", .sharedPeers)
    struct LedgerTests {
        @Test("1,500 asynchronous requests outstanding at once, more than the pending table holds, are each answered once, newest first")
        func manyOutstandingRequests() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let count = 1_500
            let peer = try startClient(name, ["--async", "\(count)", "--after", "disconnect"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            var requests: [AlpcMessage] = []
            while requests.count < count {
                let request = try server.receive(timeout: .seconds(10))
                try #require(request.messageType.kind == .request)
                requests.append(request)
            }
            // Newest first: the last 1,024 from the table, then the older ones, which later
            // requests pushed out of it.
            let deadline = ContinuousClock.now + .seconds(20)
            for request in requests.reversed() {
                try request.setData(standardReply(to: request.string))
                // Over quota while the client catches up: the request stays answerable, and the
                // replies kept for the client go out as the receiver hears it free slots.
                var outcome = Self.reply(request, on: server)
                while outcome == .quotaExceeded && ContinuousClock.now < deadline {
                    _ = try? server.waitForMessage(timeout: .milliseconds(1))
                    outcome = Self.reply(request, on: server)
                }
                #expect(outcome == nil)
            }
            // Answered, from the table and from the dictionary alike: a second reply fails.
            for request in [requests.first!, requests.last!] {
                #expect(throws: NTStatus.invalidMessage) { try server.send(request) }
            }
            // The receiver sends the replies it kept as the client frees slots; the client,
            // once it has them all, disconnects.
            #expect(try server.receive(timeout: .seconds(20)).messageType.kind == .portClosed)
            try expectLine(peer, "ASYNC \(count)")
        }

        /// Sends `message` as a reply: nil when it went, else why not.
        static func reply(_ message: AlpcMessage, on server: AlpcServer) -> NTStatus? {
            do throws(NTStatus) {
                try server.send(message)
                return nil
            } catch {
                return error
            }
        }

        @Test("Two threads answer every request at once: one reply goes out per request, the other gets invalidMessage")
        func racingReplies() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let count = 300
            let peer = try startClient(name, ["--requests", "\(count)", "--check-quiet-ms", "300", "--after", "disconnect"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            var sent = 0
            var refused = 0
            var other: [NTStatus] = []
            for _ in 0..<count {
                let request = try server.receive(timeout: .seconds(10))
                try #require(request.messageType.kind == .request)
                let outcomes = Locked<[NTStatus?]>([])
                let start = StopFlag()
                var repliers: [TestThread] = []
                for _ in 0..<2 {
                    let reply = try AlpcMessage(string: standardReply(to: request.string))
                    reply.messageId = request.messageId
                    nonisolated(unsafe) let message = reply
                    repliers.append(TestThread {
                        while !start.isSet { sched_yield() }
                        let outcome = Self.reply(message, on: server)
                        outcomes.withLock { $0.append(outcome) }
                    })
                }
                start.set()
                for replier in repliers { replier.join() }
                for outcome in outcomes.snapshot {
                    switch outcome {
                    case nil: sent += 1
                    case .invalidMessage?: refused += 1
                    case let status?: other.append(status)
                    }
                }
            }
            #expect(sent == count)
            #expect(refused == count)
            #expect(other.isEmpty, "\(other)")
            try expectLine(peer, "REPLIES \(count)")
            // No second reply reached the client.
            try expectLine(peer, "QUIET")
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .portClosed)
        }

        @Test("senderCredentials, asked from another thread while two clients' messages are received, never names the wrong process")
        func sendersReadWhileRewritten() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            // 2 x 6,000 messages: the 4,096 senders remembered are rewritten while they are read.
            let peers = try (0..<2).map { _ in try startClient(name, ["--datagrams", "6000", "--after", "disconnect"]) }
            // The MessageIds delivered so far and their senders, for the reading thread.
            let delivered = Locked<[(messageId: UInt32, pid: Int32)]>([])
            let done = StopFlag()
            let reads = Atomic<Int>(0)
            let wrong = Locked<[String]>([])
            let reader = TestThread {
                var generator = SystemRandomNumberGenerator()
                while !done.isSet {
                    let known = delivered.withLock { list -> [(messageId: UInt32, pid: Int32)] in
                        // The newest, and those about to be forgotten (rewritten next).
                        guard !list.isEmpty else { return [] }
                        let old = max(0, list.count - 4_100)
                        return [list[list.count - 1], list[old], list[Int.random(in: old..<list.count, using: &generator)]]
                    }
                    for (messageId, pid) in known {
                        guard let credentials = try? server.senderCredentials(messageId: messageId) else { continue }
                        reads.wrappingAdd(1, ordering: .relaxed)
                        if credentials.processId != pid {
                            wrong.withLock { $0.append("message \(messageId): \(credentials.processId), not \(pid)") }
                        }
                    }
                }
            }
            defer {
                done.set()
                reader.join()
            }
            var received = 0
            var closed = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while closed < 2 && ContinuousClock.now < deadline {
                var connecting: [UInt32] = []
                defer {
                    for messageId in connecting {
                        let accept = AlpcMessage()
                        accept.messageId = messageId
                        _ = try? server.acceptConnection(accept)
                    }
                }
                try server.receive(upTo: 32, timeout: .seconds(10)) { message in
                    switch message.messageType.kind {
                    case .connectionRequest:
                        connecting.append(message.messageId)
                    case .datagram:
                        received += 1
                        let sender = (messageId: message.messageId, pid: Int32(truncatingIfNeeded: message.clientId.process))
                        delivered.withLock { $0.append(sender) }
                    case .portClosed, .clientDied:
                        closed += 1
                    default:
                        break
                    }
                }
            }
            done.set()
            reader.join()
            for peer in peers { try expectLine(peer, "DATAGRAMS 6000") }
            #expect(received == 12_000)
            #expect(reads.load(ordering: .relaxed) > 0)
            #expect(wrong.snapshot.isEmpty, "\(wrong.snapshot.prefix(5))")
        }
    }
}
