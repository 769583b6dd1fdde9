import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Issue 5: messages written and read in place in the connection's rings.
    @Suite("ZeroCopy", .sharedPeers)
    struct ZeroCopyTests {
        /// Copies `text` into `buffer`, which must have exactly its length.
        static func write(_ text: String, to buffer: UnsafeMutableRawBufferPointer) {
            let bytes = Array(text.utf8)
            precondition(bytes.count == buffer.count)
            buffer.copyBytes(from: bytes)
        }

        /// The data of a message lent in place, as text.
        static func text(_ message: ReceivedMessage) -> String {
            String(decoding: message.data, as: UTF8.self)
        }

        /// Sends `text` in place and returns the reply's text and MessageId.
        static func inPlaceRequest(_ client: AlpcClient, _ text: String) throws(NTStatus) -> (String, UInt32) {
            try client.sendReceive(
                dataLength: text.utf8.count, timeout: .seconds(10),
                fill: { write(text, to: $0) },
                reply: { (ZeroCopyTests.text($0), $0.messageId) })
        }

        @Test("A request filled in place is answered, and its reply read in place, with the header a copied reply has")
        func roundTrip() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let text = "Hello in place"
            let (reply, type, messageId, process) = try client.sendReceive(
                dataLength: text.utf8.count, timeout: .seconds(10),
                fill: { Self.write(text, to: $0) },
                reply: { ($0.data.count == $0.dataLength ? Self.text($0) : "?", $0.messageType.kind, $0.messageId, $0.clientId.process) })
            #expect(reply == standardReply(to: text))
            #expect(type == .reply)
            #expect(process == UInt64(peer.pid))
            let seen = try expectLine(peer, "RECV type=0x2001")
            #expect(field("data", in: seen) == hex(Array(text.utf8)))
            #expect(number("tid", in: seen) == UInt64(threadId))
            #expect(number("id", in: seen) == UInt64(messageId))

            // Copying and in place, p50 of each, on one connection to a server that prints nothing.
            let quietName = uniquePortName("quiet")
            let quietPeer = try startServer(quietName, ["--quiet"])
            let timed = try AlpcClient(portName: quietName, timeout: .seconds(5))
            defer { withExtendedLifetime(quietPeer) {} }
            func p50(_ body: () throws -> Void) rethrows -> UInt64 {
                var samples: [UInt64] = []
                samples.reserveCapacity(2000)
                for _ in 0..<2000 {
                    let start = now()
                    try body()
                    samples.append(now() - start)
                }
                return samples.sorted()[samples.count / 2]
            }
            let payload = [UInt8](repeating: 3, count: 64)
            let request = try AlpcMessage(data: payload)
            let into = AlpcMessage()
            let copying = try p50 { try timed.sendReceive(request, receiveInto: into, timeout: .seconds(5)) }
            let inPlace = try p50 {
                try timed.sendReceive(
                    dataLength: 64, timeout: .seconds(5),
                    fill: { $0.initializeMemory(as: UInt8.self, repeating: 3) },
                    reply: { _ = $0.data.count })
            }
            report("sendReceive 64 B cross-process p50: copying \(copying) ns, in place \(inPlace) ns")
        }

        @Test("A fill that throws publishes nothing, and the connection keeps working")
        func throwingFill() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            var replyCalled = false
            #expect(throws: NTStatus.cancelled) {
                _ = try client.sendReceive(
                    dataLength: 16, timeout: .seconds(2),
                    fill: { (buffer) throws(NTStatus) in
                        buffer.initializeMemory(as: UInt8.self, repeating: 0x41)
                        throw .cancelled
                    },
                    reply: { _ in replyCalled = true })
            }
            #expect(!replyCalled)
            #expect(throws: NTStatus.cancelled) {
                try client.send(dataLength: 8, flags: .releaseMessage) { (_) throws(NTStatus) in throw .cancelled }
            }
            let (reply, _) = try Self.inPlaceRequest(client, "after the failure")
            #expect(reply == standardReply(to: "after the failure"))
            // The first request the server saw is the one after the failure.
            let seen = try expectLine(peer, "RECV type=0x2001")
            #expect(field("data", in: seen) == hex(Array("after the failure".utf8)))
            // Nothing stray arrives for the client.
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(100)) }
        }

        @Test("A data length over the maximum fails with portMessageTooLong and sends nothing")
        func tooLong() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let maxData = client.maxMessageLength - 0x28
            var filled = false
            #expect(throws: NTStatus.portMessageTooLong) {
                _ = try client.sendReceive(
                    dataLength: maxData + 1, timeout: .seconds(2), fill: { _ in filled = true }, reply: { _ in })
            }
            #expect(throws: NTStatus.portMessageTooLong) {
                try client.send(dataLength: maxData + 1) { _ in filled = true }
            }
            #expect(throws: NTStatus.invalidParameter) {
                try client.send(dataLength: -1) { _ in filled = true }
            }
            #expect(!filled)
            // The largest message goes through.
            let text = String(repeating: "x", count: maxData - "REQUEST '' DONE".utf8.count)
            let (reply, _) = try Self.inPlaceRequest(client, text)
            #expect(reply == standardReply(to: text))
            let seen = try expectLine(peer, "RECV type=0x2001")
            #expect(number("len", in: seen) == UInt64(text.utf8.count))
        }

        @Test("A server receives in place and replies in place to a peer client, with the copying path's bookkeeping")
        func serverInPlace() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--requests", "3", "--data", "zero copy", "--check-quiet-ms", "200", "--after", "disconnect-sleep"])
            let (kind, connectionId) = try server.receive(timeout: .seconds(10)) { ($0.messageType.kind, $0.messageId) }
            #expect(kind == .connectionRequest)
            let accept = AlpcMessage()
            accept.messageId = connectionId
            try server.acceptConnection(accept)

            var ids: [UInt32] = []
            for index in 0..<3 {
                let (messageId, text) = try server.receive(timeout: .seconds(10)) { (message) throws(NTStatus) in
                    #expect(message.messageType.kind == .request)
                    #expect(message.clientId.process == UInt64(peer.pid))
                    #expect(message.clientId.thread == UInt64(peer.pid))
                    let text = Self.text(message)
                    if index == 0 {
                        // Replying from inside the closure, while the request is still lent.
                        let answer = standardReply(to: text)
                        try server.reply(to: message.messageId, dataLength: answer.utf8.count) { Self.write(answer, to: $0) }
                    }
                    return (message.messageId, text)
                }
                #expect(text == "zero copy \(peer.pid) \(index)")
                #expect(messageId != 0 && !ids.contains(messageId))
                ids.append(messageId)
                #expect(try server.senderCredentials(messageId: messageId).processId == peer.pid)
                if index > 0 {
                    let answer = standardReply(to: text)
                    try server.reply(to: messageId, dataLength: answer.utf8.count) { Self.write(answer, to: $0) }
                }
                // Answered: a second reply is refused.
                #expect(throws: NTStatus.invalidMessage) {
                    try server.reply(to: messageId, dataLength: 1) { $0[0] = 0 }
                }
            }
            try expectLine(peer, "REPLIES 3")
            try expectLine(peer, "QUIET")
            let closed = try server.receive(timeout: .seconds(10)) { ($0.messageType.kind, $0.dataLength, $0.clientId.process) }
            #expect(closed.0 == .portClosed)
            #expect(closed.1 == 0)
            #expect(closed.2 == UInt64(peer.pid))
        }

        @Test("In process: a failed or too long in-place reply leaves the request answerable")
        func inProcessServer() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let replies = Locked<[String]>([])
            let clientThread = TestThread {
                do {
                    let client = try AlpcClient(portName: name, timeout: .seconds(5))
                    for index in 0..<2 {
                        let (reply, _) = try Self.inPlaceRequest(client, "in process \(index)")
                        replies.withLock { $0.append(reply) }
                    }
                    client.disconnect()
                } catch {
                    replies.withLock { $0.append("error \(error)") }
                }
            }
            let connection = try server.receive(timeout: .seconds(10))
            try server.acceptConnection(connection)
            for index in 0..<2 {
                let (messageId, text) = try server.receive(timeout: .seconds(10)) { ($0.messageId, Self.text($0)) }
                #expect(text == "in process \(index)")
                #expect(throws: NTStatus.cancelled) {
                    try server.reply(to: messageId, dataLength: 4) { (_) throws(NTStatus) in throw .cancelled }
                }
                #expect(throws: NTStatus.portMessageTooLong) {
                    try server.reply(to: messageId, dataLength: 0x10000) { _ in }
                }
                let answer = standardReply(to: text)
                try server.reply(to: messageId, dataLength: answer.utf8.count) { Self.write(answer, to: $0) }
            }
            #expect(try server.receive(timeout: .seconds(10)) { $0.messageType.kind } == .portClosed)
            clientThread.join()
            #expect(replies.snapshot == (0..<2).map { standardReply(to: "in process \($0)") })
        }

        @Test("In-place and copying calls mix on one connection: requests, asynchronous requests, datagrams")
        func mixing() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            for index in 0..<20 {
                let text = "mixed \(index)"
                if index % 2 == 0 {
                    #expect(try Self.inPlaceRequest(client, text).0 == standardReply(to: text))
                } else {
                    #expect(try client.sendReceive(text, timeout: .seconds(10)).string == standardReply(to: text))
                }
            }
            // An asynchronous request sent in place, its reply read by a copying receive, and
            // the other way round.
            try client.send(dataLength: 5) { Self.write("async", to: $0) }
            #expect(try client.receive(timeout: .seconds(10)).string == standardReply(to: "async"))
            try client.send(try AlpcMessage(string: "copied async"))
            let asyncReply = try client.receive(timeout: .seconds(10)) { (Self.text($0), $0.messageType.kind) }
            #expect(asyncReply.0 == standardReply(to: "copied async"))
            #expect(asyncReply.1 == .reply)
            // A datagram sent in place reaches the server.
            try client.send(dataLength: 8, flags: .releaseMessage) { Self.write("datagram", to: $0) }
            try expectLine(peer, "RECV type=0x" + String(UInt16(LPC_DATAGRAM_TYPE), radix: 16))
            #expect(try Self.inPlaceRequest(client, "last").0 == standardReply(to: "last"))
        }
    }
}

/// LPC_DATAGRAM as the peer prints it.
private let LPC_DATAGRAM_TYPE = 3
