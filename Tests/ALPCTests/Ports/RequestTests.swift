import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Synchronous requests and replies across processes, byte for byte.
    @Suite("Requests", .sharedPeers)
    struct RequestTests {
        @Test("test_alpc: 'Message 1\\0\\xffABCD' is answered with 'Message 2-' and the bytes 0...255, Type LPC_REPLY, the MessageId the server saw")
        func seedScenario() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            try expectLine(peer, "RECV type=0x200a")

            let request = try AlpcMessage(data: seedRequest)
            let reply = try client.sendReceive(request, timeout: .seconds(10))
            #expect(reply.data == seedReply)
            #expect(reply.dataLength == 266)
            #expect(reply.port.totalLength == 0x28 + 266)
            #expect(reply.type == 2)
            #expect(reply.messageType.kind == .reply)
            #expect(reply.clientId.process == UInt64(peer.pid))

            let seen = try expectLine(peer, "RECV type=0x2001")
            #expect(field("data", in: seen) == hex(seedRequest))
            #expect(number("len", in: seen) == UInt64(seedRequest.count))
            #expect(number("pid", in: seen) == UInt64(getpid()))
            #expect(number("tid", in: seen) == UInt64(threadId))
            let serverMessageId = try #require(number("id", in: seen))
            #expect(serverMessageId != 0)
            #expect(UInt64(reply.messageId) == serverMessageId)
            // The request message itself is left as sent.
            #expect(request.data == seedRequest)
        }

        @Test("simple_alpc: 'Hello world !' is answered with \"REQUEST 'Hello world !' DONE\"")
        func simpleScenario() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let reply = try client.sendReceive("Hello world !", timeout: .seconds(10))
            #expect(reply.string == "REQUEST 'Hello world !' DONE")
            #expect(reply.messageType.kind == .reply)
            // Each request gets a new MessageId.
            let second = try client.sendReceive("Hello world !", timeout: .seconds(10))
            #expect(second.string == "REQUEST 'Hello world !' DONE")
            #expect(second.messageId != reply.messageId)
            #expect(reply.messageId != 0 && second.messageId != 0)
            withExtendedLifetime(peer) {}
        }

        @Test("An in-process server replies by sending the request back, and by a new message carrying its MessageId")
        func serverRepliesBothWays() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--requests", "2", "--data", "both ways", "--check-quiet-ms", "200", "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))

            // 1: the received message itself, data replaced.
            let first = try server.receive(timeout: .seconds(10))
            #expect(first.type == 0x2001)
            #expect(first.messageId != 0)
            #expect(first.clientId.process == UInt64(peer.pid))
            #expect(first.clientId.thread == UInt64(peer.pid))
            #expect(first.string == "both ways \(peer.pid) 0")
            try first.setData(standardReply(to: first.string))
            try server.send(first)

            // 2: a new message that only carries the request's MessageId.
            let second = try server.receive(timeout: .seconds(10))
            #expect(second.messageId != first.messageId)
            let answer = try AlpcMessage(string: standardReply(to: second.string))
            answer.messageId = second.messageId
            try server.send(answer)

            try expectLine(peer, "REPLIES 2")
            try expectLine(peer, "QUIET")
            let closed = try server.receive(timeout: .seconds(10))
            #expect(closed.messageType.kind == .portClosed)
        }

        @Test("A reply to an unknown or an already answered MessageId fails with invalidMessage and disturbs nobody")
        func invalidReplies() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--requests", "3", "--check-quiet-ms", "300", "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))

            let request = try server.receive(timeout: .seconds(10))
            let requestId = request.messageId
            let text = request.string
            try request.setData(standardReply(to: text))

            // Unknown MessageIds, before and after the real reply.
            let stray = try AlpcMessage(string: "stray")
            stray.messageId = requestId &+ 1000
            #expect(throws: NTStatus.invalidMessage) { try server.send(stray) }
            stray.messageId = 0
            #expect(throws: NTStatus.invalidParameter) { try server.send(stray) }

            try server.send(request)
            // The same reply again, and a new message for the answered id.
            #expect(throws: NTStatus.invalidMessage) { try server.send(request) }
            stray.messageId = requestId
            #expect(throws: NTStatus.invalidMessage) { try server.send(stray) }

            // The connection goes on: the next requests are answered normally.
            for _ in 1...2 {
                let next = try server.receive(timeout: .seconds(10))
                #expect(next.messageType.kind == .request)
                #expect(next.messageId != requestId)
                try next.setData(standardReply(to: next.string))
                try server.send(next)
            }
            try expectLine(peer, "REPLIES 3")
            // None of the refused replies reached the client.
            try expectLine(peer, "QUIET")
            #expect(try server.receive(timeout: .seconds(10)).messageType.kind == .portClosed)
        }
    }
}
