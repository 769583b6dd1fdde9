import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Sends without waiting: asynchronous requests and datagrams across processes.
    @Suite("Asynchronous send", .sharedPeers)
    struct AsyncTests {
        @Test("A send without flags is a request whose reply arrives later at the client's receive")
        func asynchronousRequests() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            try expectLine(peer, "RECV type=0x200a")

            let texts = ["async 0", "async 1", "async 2"]
            for text in texts {
                try client.send(try AlpcMessage(string: text), flags: [])
            }
            var serverIds: [UInt64] = []
            for text in texts {
                let seen = try expectLine(peer, "RECV")
                #expect(field("data", in: seen) == hex(Array(text.utf8)))
                // Delivered as a request the server must answer.
                #expect(field("type", in: seen) == "0x2001")
                serverIds.append(try #require(number("id", in: seen)))
            }
            var replies: [String] = []
            var replyIds: [UInt64] = []
            for _ in texts {
                let reply = try client.receive(timeout: .seconds(10))
                #expect(reply.messageType.kind == .reply)
                #expect(reply.clientId.process == UInt64(peer.pid))
                replies.append(reply.string)
                replyIds.append(UInt64(reply.messageId))
            }
            #expect(replies == texts.map(standardReply(to:)))
            #expect(replyIds == serverIds)
            // Nothing else is queued.
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(100)) }
        }

        @Test("sendReceive without syncRequest is a send followed by a receive")
        func sendReceiveWithoutSync() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let reply = try client.sendReceive(try AlpcMessage(string: "not sync"), flags: [], timeout: .seconds(10))
            #expect(reply.string == standardReply(to: "not sync"))
            #expect(reply.messageType.kind == .reply)
            withExtendedLifetime(peer) {}
        }

        @Test("A releaseMessage send from a peer client arrives as LPC_DATAGRAM; it cannot be replied to")
        func datagramsFromPeer() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--datagrams", "3", "--check-quiet-ms", "300", "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))
            var messageIds: Set<UInt32> = []
            for index in 0..<3 {
                let datagram = try server.receive(timeout: .seconds(10))
                #expect(datagram.type == 3)
                #expect(datagram.messageType.kind == .datagram)
                #expect(datagram.string == "datagram \(index)")
                #expect(datagram.clientId.process == UInt64(peer.pid))
                messageIds.insert(datagram.messageId)
                // No reply is expected: the server has nothing to answer.
                try datagram.setData("unwanted reply")
                #expect(throws: NTStatus.invalidMessage) { try server.send(datagram) }
            }
            #expect(messageIds.count == 3)
            try expectLine(peer, "DATAGRAMS 3")
            try expectLine(peer, "QUIET")
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .portClosed)
        }

        @Test("A releaseMessage send from an in-process client reaches the peer as LPC_DATAGRAM and gets no reply")
        func datagramToPeer() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            try client.send(try AlpcMessage(string: "fire and forget"), flags: .releaseMessage)
            let seen = try expectLine(peer, "RECV type=0x3 ")
            #expect(field("data", in: seen) == hex(Array("fire and forget".utf8)))
            #expect(number("pid", in: seen) == UInt64(getpid()))
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(200)) }
            // The connection still carries requests.
            #expect(try client.sendReceive("after", timeout: .seconds(10)).string == standardReply(to: "after"))
        }
    }
}
