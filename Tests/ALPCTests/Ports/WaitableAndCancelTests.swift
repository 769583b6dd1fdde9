import ALPC
import CALPC
import Glibc
import Testing

extension PortsTests {
    /// Waitable server ports (ALPC_PORFLG_WAITABLE_PORT) and cancelled asynchronous requests,
    /// across processes: the Swift side of NtWaitForSingleObject and NtAlpcCancelMessage.
    @Suite("Waitable ports and cancellation", .sharedPeers)
    struct WaitableAndCancelTests {
        /// True when `fd` is readable now.
        private static func isReadable(_ fd: Int32, waitingMilliseconds: Int32 = 0) -> Bool {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, waitingMilliseconds) == 1 && entry.revents & Int16(POLLIN) != 0
        }

        /// Receives `count` messages, each after `fd` said it was readable (a receive then may
        /// still find nothing, as a socket may say EAGAIN); their kinds, within 10 s.
        private static func receiveWhenReadable(_ server: AlpcServer, fd: Int32, count: Int) -> [MessageType.Kind] {
            var kinds: [MessageType.Kind] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while kinds.count < count && ContinuousClock.now < deadline {
                guard isReadable(fd, waitingMilliseconds: 1000) else { continue }
                if let message = try? server.receive(timeout: .zero) { kinds.append(message.messageType.kind) }
            }
            return kinds
        }

        @Test("A waitable port's descriptor is readable exactly while a message is queued")
        func waitablePort() throws {
            #expect(try AlpcServer(portName: uniquePortName()).pollDescriptor == nil)

            let name = uniquePortName()
            let server = try AlpcServer(portName: name, attributes: PortAttributes(flags: ALPC_PORFLG_WAITABLE_PORT))
            let fd = try #require(server.pollDescriptor)
            #expect(!Self.isReadable(fd))
            #expect(try server.waitForMessage(timeout: .zero) == false)

            let peer = try startClient(name, ["--datagrams", "3", "--after", "disconnect"])
            #expect(try server.waitForMessage(timeout: .seconds(10)))
            #expect(Self.isReadable(fd), "readable while the connection request waits")
            let request = try server.receive(timeout: .zero)
            #expect(request.messageType.kind == .connectionRequest)
            try server.acceptConnection(request)

            // Each datagram is announced by the descriptor before it is received.
            let kinds = Self.receiveWhenReadable(server, fd: fd, count: 3)
            #expect(kinds == [.datagram, .datagram, .datagram])
            // The client disconnects: LPC_PORT_CLOSED is announced too; then nothing is queued.
            #expect(try server.waitForMessage(timeout: .seconds(10)))
            #expect(try server.receive(timeout: .zero).messageType.kind == .portClosed)
            #expect(try server.waitForMessage(timeout: .milliseconds(100)) == false)
            #expect(!Self.isReadable(fd))
            #expect(peer.exitedCleanly())
        }

        @Test("A cancelled asynchronous request's reply is dropped; the connection goes on")
        func cancelledRequest() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            try expectLine(peer, "RECV type=0x200a")

            let id = try client.send(try AlpcMessage(string: "cancel me"))
            #expect(id != 0)
            try client.cancelRequest(id)
            try expectLine(peer, "RECV")  // the server got it and answers it
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(300)) }

            #expect(throws: NTStatus.invalidMessage) { try client.cancelRequest(0) }
            #expect(throws: NTStatus.invalidMessage) { try client.cancelRequest(id &+ 1000) }
            #expect(try client.send(try AlpcMessage(string: "x"), flags: .releaseMessage) == 0)

            let kept = try client.send(try AlpcMessage(string: "keep me"))
            #expect(kept != id)
            let reply = try client.receive(timeout: .seconds(10))
            #expect(reply.string == standardReply(to: "keep me"))
        }
    }
}
