import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Receive buffers and message limits across processes.
    @Suite("Receive and limits", .sharedPeers)
    struct ReceiveTests {
        @Test("A server receive into a too-small buffer fails with bufferTooSmall and the needed length; the request stays queued")
        func serverBufferTooSmall() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let data = String(repeating: "x", count: 600)
            let peer = try startClient(name, ["--requests", "1", "--data", data, "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))

            let expected = "\(data) \(peer.pid) 0"
            let small = AlpcMessage(size: 0x100)
            #expect(throws: NTStatus.bufferTooSmall) { try server.receive(into: small, timeout: .seconds(10)) }
            #expect(Int(small.port.totalLength) == 0x28 + expected.utf8.count)
            #expect(Int(small.port.dataLength) == expected.utf8.count)

            // Again too small: still there, still the same length.
            #expect(throws: NTStatus.bufferTooSmall) { try server.receive(into: AlpcMessage(size: 0x200), timeout: .seconds(1)) }

            let request = try server.receive(into: AlpcMessage(size: Int(small.port.totalLength)), timeout: .seconds(1))
            #expect(request.messageType.kind == .request)
            #expect(request.string == expected)
            #expect(request.messageId != 0)
            // The reply is longer than the request's exact-size buffer: answer with a new message.
            let reply = try AlpcMessage(string: standardReply(to: request.string))
            reply.messageId = request.messageId
            try server.send(reply)
            try expectLine(peer, "REPLIES 1")
        }

        @Test("A client receive into a too-small buffer fails with bufferTooSmall and the needed length; the reply stays queued")
        func clientBufferTooSmall() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            try client.send(try AlpcMessage(data: seedRequest), flags: [])

            let small = AlpcMessage(size: 0x28 + 16)
            #expect(throws: NTStatus.bufferTooSmall) { try client.receive(into: small, timeout: .seconds(10)) }
            #expect(Int(small.port.totalLength) == 0x28 + seedReply.count)
            #expect(Int(small.port.dataLength) == seedReply.count)
            // The needed length exactly is enough.
            let exact = AlpcMessage(size: Int(small.port.totalLength))
            let reply = try client.receive(into: exact, timeout: .seconds(1))
            #expect(reply.data == seedReply)
            #expect(reply.messageType.kind == .reply)
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(50)) }
            withExtendedLifetime(peer) {}
        }

        @Test("A sendReceive whose receive buffer is too small fails with bufferTooSmall; a receive with a bigger buffer gets the reply")
        func sendReceiveBufferTooSmall() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let small = AlpcMessage(size: 0x28 + 16)
            #expect(throws: NTStatus.bufferTooSmall) {
                try client.sendReceive(try AlpcMessage(data: seedRequest), receiveInto: small, timeout: .seconds(10))
            }
            #expect(Int(small.port.totalLength) == 0x28 + seedReply.count)
            let reply = try client.receive(into: AlpcMessage(size: Int(small.port.totalLength)), timeout: .seconds(1))
            #expect(reply.data == seedReply)
            #expect(reply.messageType.kind == .reply)
            // The connection goes on.
            #expect(try client.sendReceive("next", timeout: .seconds(10)).string == standardReply(to: "next"))
            withExtendedLifetime(peer) {}
        }

        @Test("A reply another thread picked up for a sendReceive whose buffer is too small is not lost")
        func parkedReplyBufferTooSmall() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            // Another thread waits for anything, so it is the one that reads the reply off the ring
            // and hands it over to the thread that asked.
            let other = Locked<[UInt8]?>(nil)
            let waiter = TestThread {
                if let message = try? client.receive(timeout: .milliseconds(500)) {
                    other.withLock { $0 = message.data }
                }
            }
            usleep(50_000)
            let small = AlpcMessage(size: 0x28 + 16)
            #expect(throws: NTStatus.bufferTooSmall) {
                try client.sendReceive(try AlpcMessage(data: seedRequest), receiveInto: small, timeout: .seconds(10))
            }
            let mine = try? client.receive(timeout: .milliseconds(600)).data
            waiter.join()
            let received = [mine, other.snapshot].compactMap { $0 }
            // Exactly one receive got it, intact.
            #expect(received == [seedReply])
            withExtendedLifetime(peer) {}
        }

        @Test("A message longer than the port's MaxMessageLength is refused at the client with portMessageTooLong; the connection goes on")
        func clientMessageTooLong() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--max-length", "256"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(client.maxMessageLength == 256)

            let tooLong = try AlpcMessage(data: [UInt8](repeating: 0x41, count: 256 - 0x28 + 1))
            #expect(throws: NTStatus.portMessageTooLong) { try client.sendReceive(tooLong, timeout: .seconds(1)) }
            #expect(throws: NTStatus.portMessageTooLong) { try client.send(tooLong, flags: []) }
            #expect(throws: NTStatus.portMessageTooLong) { try client.send(tooLong, flags: .releaseMessage) }

            #expect(try client.sendReceive("short", timeout: .seconds(10)).string == standardReply(to: "short"))
            // Nothing of the refused messages reached the server.
            let seen = try expectLine(peer, "RECV type=0x2001")
            #expect(field("data", in: seen) == hex(Array("short".utf8)))
        }

        @Test("A reply longer than the connection's MaxMessageLength is refused at the server; the request stays answerable")
        func serverReplyTooLong() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name, attributes: PortAttributes(flags: 0, maxMessageLength: 0x200))
            let peer = try startClient(name, ["--requests", "2", "--check-quiet-ms", "200", "--after", "disconnect-sleep"])
            try server.acceptConnection(try server.receive(timeout: .seconds(10)))

            let request = try server.receive(timeout: .seconds(10))
            let text = request.string
            try request.setData([UInt8](repeating: 0x42, count: 0x200 - 0x28 + 1))
            #expect(throws: NTStatus.portMessageTooLong) { try server.send(request) }
            try request.setData(standardReply(to: text))
            try server.send(request)

            let next = try server.receive(timeout: .seconds(10))
            try next.setData(standardReply(to: next.string))
            try server.send(next)
            try expectLine(peer, "REPLIES 2")
            try expectLine(peer, "QUIET")
        }

        @Test("A message of exactly MaxMessageLength goes through")
        func exactlyMaxLength() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name, attributes: PortAttributes(flags: 0, maxMessageLength: 0x200))
            let background = BackgroundServer(server)
            defer { background.stop() }
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(client.maxMessageLength == 0x200)
            // The standard reply adds 15 bytes: the request leaves room for them.
            let text = String(repeating: "z", count: 0x200 - 0x28 - 15)
            let reply = try client.sendReceive(text, timeout: .seconds(10))
            #expect(reply.string == standardReply(to: text))
            #expect(Int(reply.port.totalLength) == 0x200)
        }
    }

    /// Receive timeouts; alone among the multi-process tests.
    @Suite("Receive timing", .serialized, .exclusivePeers)
    struct ReceiveTimingTests {
        @Test("A server receive with nothing to receive ends with .timeout after its timeout")
        func serverReceiveTimeout() throws {
            let server = try AlpcServer(portName: uniquePortName())
            let start = now()
            #expect(throws: NTStatus.timeout) { try server.receive(timeout: .milliseconds(100)) }
            let elapsed = milliseconds(now() - start)
            report("server receive timeout 100 ms took \(elapsed) ms")
            #expect(elapsed >= 99 && elapsed < 200, "took \(elapsed) ms")
        }

        @Test("A client receive with nothing to receive ends with .timeout after its timeout")
        func clientReceiveTimeout() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let start = now()
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(100)) }
            let elapsed = milliseconds(now() - start)
            report("client receive timeout 100 ms took \(elapsed) ms")
            #expect(elapsed >= 99 && elapsed < 200, "took \(elapsed) ms")
            withExtendedLifetime(peer) {}
        }

        @Test("A sendReceive whose reply does not come ends with .timeout after its timeout; the connection goes on")
        func sendReceiveTimeout() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--no-reply"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let start = now()
            #expect(throws: NTStatus.timeout) { try client.sendReceive("unanswered", timeout: .milliseconds(100)) }
            let elapsed = milliseconds(now() - start)
            report("sendReceive timeout 100 ms took \(elapsed) ms")
            #expect(elapsed >= 99 && elapsed < 200, "took \(elapsed) ms")
            try expectLine(peer, "RECV type=0x2001")
        }
    }
}
