import ALPC
import CALPC
import Glibc
import Testing

extension PortsTests {
    /// Connecting across processes: the request the server sees, accepting with data, refusing.
    @Suite("Connection", .sharedPeers)
    struct ConnectionTests {
        @Test("The server receives Type 0x200a with the client's data, pid and tid; accept data reaches the client")
        func connectionRequestAndAccept() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--connect-data", "Hello from the peer", "--after", "sleep"])
            let announced = try expectLine(peer, "CONNECTING")

            let request = try server.receive(timeout: .seconds(10))
            #expect(request.type == 0x200A)
            #expect(request.messageType.kind == .connectionRequest)
            #expect(request.string == "Hello from the peer")
            #expect(request.port.totalLength == UInt16(0x28 + "Hello from the peer".utf8.count))
            #expect(request.clientId.process == UInt64(peer.pid))
            // The peer connects from its only thread, whose tid is its pid.
            #expect(request.clientId.thread == UInt64(peer.pid))
            #expect(number("tid", in: announced) == UInt64(peer.pid))
            #expect(request.messageId != 0)

            try request.setData("Welcome, peer")
            let connection = try server.acceptConnection(request)
            #expect(connection.clientProcessId == peer.pid)
            #expect(connection.clientUserId == getuid())
            #expect(server.connectionCount == 1)

            let connected = try expectLine(peer, "CONNECTED")
            #expect(field("reply", in: connected) == hex(Array("Welcome, peer".utf8)))
        }

        @Test("A connection request without data arrives with DataLength 0")
        func connectionRequestWithoutData() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--after", "sleep"])
            let request = try server.receive(timeout: .seconds(10))
            #expect(request.type == 0x200A)
            #expect(request.dataLength == 0)
            #expect(request.port.totalLength == 0x28)
            #expect(request.clientId.process == UInt64(peer.pid))
            try server.acceptConnection(request)
            let connected = try expectLine(peer, "CONNECTED")
            // Accepting the data-less request hands no data back.
            #expect(field("reply", in: connected) == "-")
        }

        @Test("A refused peer client's connect fails with STATUS_PORT_CONNECTION_REFUSED")
        func refusePeerClient() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name, ["--connect-data", "let me in"])
            let request = try server.receive(timeout: .seconds(10))
            #expect(request.messageType.kind == .connectionRequest)
            try server.refuseConnection(request)
            let status = try expectLine(peer, "STATUS")
            #expect(status.contains("STATUS_PORT_CONNECTION_REFUSED (0xC0000041)"))
            #expect(server.connectionCount == 0)
            // The request is answered: it can be neither accepted nor refused again.
            #expect(throws: NTStatus.invalidMessage) { try server.acceptConnection(request) }
            #expect(throws: NTStatus.invalidMessage) { try server.refuseConnection(request) }
        }

        @Test("Accepting the request of a client that died meanwhile fails with portDisconnected")
        func acceptDeadClient() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let peer = try startClient(name)
            let request = try server.receive(timeout: .seconds(10))
            #expect(request.messageType.kind == .connectionRequest)
            peer.kill(signal: SIGKILL)
            #expect(throws: NTStatus.portDisconnected) { try server.acceptConnection(request) }
            #expect(server.connectionCount == 0)
            // Nothing more comes of it: no LPC_CLIENT_DIED for a connection that never was.
            #expect(throws: NTStatus.timeout) { try server.receive(timeout: .milliseconds(100)) }
        }

        @Test("An in-process client sees the peer server's accept data; the peer sees its data, pid and tid")
        func inProcessClientConnects() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let connect = try AlpcMessage(string: "in-process hello")
            let client = try AlpcClient(portName: name, connectMessage: connect, timeout: .seconds(5))
            let reply = try #require(client.connectionReply)
            #expect(reply === connect)
            #expect(reply.string == "Connection message response")
            #expect(reply.messageType.kind == .reply)
            #expect(reply.clientId.process == UInt64(peer.pid))

            let seen = try expectLine(peer, "RECV")
            #expect(field("type", in: seen) == "0x200a")
            #expect(field("data", in: seen) == hex(Array("in-process hello".utf8)))
            #expect(number("pid", in: seen) == UInt64(getpid()))
            #expect(number("tid", in: seen) == UInt64(threadId))
            #expect(number("id", in: seen) != 0)
        }

        @Test("A peer server's refusal fails the in-process connect with portConnectionRefused")
        func refusedByPeerServer() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--refuse"])
            #expect(throws: NTStatus.portConnectionRefused) { _ = try AlpcClient(portName: name, timeout: .seconds(5)) }
            try expectLine(peer, "RECV type=0x200a")
            // Refusal is per request: the server still answers the next one the same way.
            #expect(throws: NTStatus.portConnectionRefused) { _ = try AlpcClient(portName: name, timeout: .seconds(5)) }
        }
    }

    /// Connection timing; alone among the multi-process tests.
    @Suite("Connection timing", .serialized, .exclusivePeers)
    struct ConnectionTimingTests {
        @Test("Connecting with a 300 ms timeout to a server that ignores connection requests times out in about 300 ms")
        func connectTimeout() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--ignore-connections"])
            let start = now()
            #expect(throws: NTStatus.timeout) { _ = try AlpcClient(portName: name, timeout: .milliseconds(300)) }
            let elapsed = milliseconds(now() - start)
            report("connect timeout 300 ms took \(elapsed) ms")
            #expect(elapsed >= 299 && elapsed < 450, "took \(elapsed) ms")
            // The server did see the request (it ignored it on purpose).
            try expectLine(peer, "RECV type=0x200a")
        }
    }
}
