import ALPC
import CALPC
import Glibc
import Synchronization
import Testing

extension TransportTests {
    /// `ControlSocket`: packets with descriptors, failures that leak nothing, credentials,
    /// disconnection, timeouts and readiness.
    @Suite("ControlSocket", .sharedPeers)
    struct ControlSocketTests {
        @Test("A packet with three descriptors round-trips 200 times and leaks none")
        func descriptorsRoundTrip() throws {
            let connection = try Connection()
            let request = try TestPipe()
            let reply = try TestPipe()
            let memory = try TestMemfd(contents: "shared memory")
            let originals = [request.readEnd, reply.writeEnd, memory.fd]
            let targets = Set(try originals.map { try #require(descriptorTarget($0)) })
            let before = try openDescriptorCount(pointingAt: targets)
            #expect(before == 5)  // both ends of each pipe, and the memfd

            for iteration in 0..<200 {
                try writeText("request \(iteration)", to: request.writeEnd)
                try send("packet \(iteration)", fds: [request.readEnd, memory.fd, reply.writeEnd],
                         on: connection.client)

                let (text, fds) = try receiveText(on: connection.server, maxFDs: 3)
                #expect(text == "packet \(iteration)")
                try #require(fds.count == 3)
                #expect(readText(from: fds[0], count: 64) == "request \(iteration)")
                #expect(TestMemfd.contents(of: fds[1]) == "shared memory")
                try writeText("reply \(iteration)", to: fds[2])
                if iteration == 0 {
                    #expect(fds.allSatisfy { fcntl($0, F_GETFD) & FD_CLOEXEC != 0 })
                    #expect(Set(fds).isDisjoint(with: originals))
                }
                for fd in fds { close(fd) }
                #expect(readText(from: reply.readEnd, count: 64) == "reply \(iteration)")
            }
            #expect(try openDescriptorCount(pointingAt: targets) == before)
        }

        @Test("A packet longer than the buffer throws invalidParameter, leaks no descriptor, and is consumed")
        func packetTooLong() throws {
            let connection = try Connection()
            let pipe = try TestPipe()
            let targets: Set = [try #require(descriptorTarget(pipe.readEnd))]
            let before = try openDescriptorCount(pointingAt: targets)

            let long = String(repeating: "x", count: 100)
            try send(long, fds: [pipe.readEnd, pipe.writeEnd, pipe.readEnd], on: connection.client)
            #expect(throws: NTStatus.invalidParameter) {
                _ = try receiveText(on: connection.server, capacity: 10, maxFDs: 3)
            }
            #expect(try openDescriptorCount(pointingAt: targets) == before)

            try send("next", on: connection.client)
            #expect(try receiveText(on: connection.server, capacity: 10).text == "next")
        }

        @Test(
            "A packet with more descriptors than asked for throws invalidParameter and leaks none",
            arguments: [0, 1, 2])
        func tooManyDescriptors(maxFDs: Int) throws {
            let connection = try Connection()
            let pipe = try TestPipe()
            let targets: Set = [try #require(descriptorTarget(pipe.readEnd))]
            let before = try openDescriptorCount(pointingAt: targets)

            try send("three", fds: [pipe.readEnd, pipe.writeEnd, pipe.readEnd], on: connection.client)
            #expect(throws: NTStatus.invalidParameter) {
                _ = try receiveText(on: connection.server, maxFDs: maxFDs)
            }
            #expect(try openDescriptorCount(pointingAt: targets) == before)

            try send("next", on: connection.client)
            #expect(try receiveText(on: connection.server, maxFDs: maxFDs).text == "next")
        }

        @Test("Peer credentials are this process's pid, uid and gid, on both ends")
        func peerCredentials() throws {
            let connection = try Connection()
            for credentials in [try connection.client.peerCredentials(), try connection.server.peerCredentials()] {
                #expect(credentials.pid == getpid())
                #expect(credentials.uid == getuid())
                #expect(credentials.gid == getgid())
            }
        }

        @Test("After the peer closes, queued packets arrive, then portDisconnected")
        func endOfFile() throws {
            let listener = try ControlListener.listen(on: uniquePortName())
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            try send("last words", on: client)
            client.close()
            #expect(try receiveText(on: server).text == "last words")
            #expect(throws: NTStatus.portDisconnected) { _ = try receiveText(on: server) }
            #expect(throws: NTStatus.portDisconnected) { _ = try receiveText(on: server, timeout: .zero) }
            #expect(throws: NTStatus.portDisconnected) { try send("anyone?", on: server) }
        }

        @Test("A peer that closes with our packet unread still delivers what it sent first")
        func resetByPeer() throws {
            let listener = try ControlListener.listen(on: uniquePortName())
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            try send("request", on: client)
            try send("reply nobody reads", on: server)
            client.close()
            // The kernel reports ECONNRESET before the queued packet; receive must not stop there.
            #expect(try receiveText(on: server, timeout: .zero).text == "request")
            #expect(throws: NTStatus.portDisconnected) { _ = try receiveText(on: server, timeout: .zero) }
            #expect(throws: NTStatus.portDisconnected) { _ = try receiveText(on: server) }
        }

        @Test("A receive with nothing to read throws timeout after the timeout, on both ends")
        func receiveTimeout() throws {
            let connection = try Connection()
            for timeout: Duration in [.zero, .milliseconds(50)] {
                let start = ContinuousClock.now
                #expect(throws: NTStatus.timeout) { _ = try receiveText(on: connection.server, timeout: timeout) }
                #expect(throws: NTStatus.timeout) { _ = try receiveText(on: connection.client, timeout: timeout) }
                let elapsed = start.duration(to: .now)
                #expect(elapsed >= timeout * 2)
                #expect(elapsed < .seconds(5))
            }
        }

        @Test(
            "A receive without timeout waits for the packet, on a non-blocking and a blocking socket",
            .timeLimit(.minutes(1)))
        func receiveWaits() throws {
            let connection = try Connection()
            // The server's socket is non-blocking: the receive waits in poll(2).
            var thread = try startThread(.init(fd: connection.client.fd, delayMicroseconds: 20_000, kind: .sendByte))
            #expect(try receiveText(on: connection.server, timeout: nil).text == "*")
            pthread_join(thread, nil)
            // The client's socket blocks: the receive waits in recvmsg(2).
            thread = try startThread(.init(fd: connection.server.fd, delayMicroseconds: 20_000, kind: .sendByte))
            #expect(try receiveText(on: connection.client, timeout: nil).text == "*")
            pthread_join(thread, nil)
        }

        @Test(
            "A receive without timeout ends with portDisconnected when the peer hangs up meanwhile",
            .timeLimit(.minutes(1)))
        func receiveWakesOnHangUp() throws {
            let connection = try Connection()
            let thread = try startThread(.init(fd: connection.client.fd, delayMicroseconds: 20_000, kind: .shutDown))
            defer { pthread_join(thread, nil) }
            #expect(throws: NTStatus.portDisconnected) { _ = try receiveText(on: connection.server, timeout: nil) }
            let gone = connection.server.isPeerGone()
            #expect(gone)
        }

        @Test("isPeerGone returns as soon as the peer goes, well before its timeout", .timeLimit(.minutes(1)))
        func isPeerGoneWakes() throws {
            let connection = try Connection()
            let thread = try startThread(.init(fd: connection.server.fd, delayMicroseconds: 20_000, kind: .shutDown))
            defer { pthread_join(thread, nil) }
            let start = ContinuousClock.now
            let gone = connection.client.isPeerGone(timeout: .seconds(30))
            #expect(gone)
            #expect(start.duration(to: .now) < .seconds(10))
        }

        @Test("A send to a full queue throws timeout, and succeeds once the peer reads")
        func sendTimeout() throws {
            let connection = try Connection()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 1)
            var sent = 0
            var failure: NTStatus?
            while sent < 1_000_000 {
                do throws(NTStatus) {
                    try connection.server.send(UnsafeRawBufferPointer(buffer), timeout: .zero)
                    sent += 1
                } catch {
                    failure = error
                    break
                }
            }
            #expect(failure == .timeout)
            #expect(sent > 0)
            _ = try receiveText(on: connection.client, capacity: 1024)
            try send("room again", on: connection.server)
        }

        @Test("An empty packet is refused with invalidParameter (it would read as end of file)")
        func emptyPacket() throws {
            let connection = try Connection()
            #expect(throws: NTStatus.invalidParameter) {
                try connection.client.send(UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }

        @Test("Sending a descriptor that is not open throws invalidHandle")
        func sendClosedDescriptor() throws {
            let connection = try Connection()
            // A number above any descriptor limit: a number just closed could be reused at once by
            // another test's thread.
            let closed: Int32 = 0x7FFF_FFF0
            #expect(throws: NTStatus.invalidHandle) { try send("bad", fds: [closed], on: connection.client) }
        }

        @Test("Poll and isPeerGone tell readable, half-closed and closed apart")
        func readiness() throws {
            let listener = try ControlListener.listen(on: uniquePortName())
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            #expect(try server.poll(for: .readable, timeout: .zero) == [])
            var gone = server.isPeerGone()
            #expect(!gone)

            try send("data", on: client)
            #expect(try server.poll(for: .readable, timeout: .seconds(5)) == .readable)
            gone = server.isPeerGone()
            #expect(!gone)

            // The client stops sending: the server sees a read hang-up, not a hang-up.
            try #require(shutdown(client.fd, Int32(SHUT_WR)) == 0)
            let halfClosed = try server.poll(for: [.readable, .readHangUp], timeout: .zero)
            #expect(halfClosed.contains(.readHangUp))
            #expect(!halfClosed.contains(.hangUp))
            gone = server.isPeerGone()
            #expect(gone)

            client.close()
            let closed = try server.poll(for: .readHangUp, timeout: .zero)
            #expect(closed.contains(.hangUp))
            #expect(closed.isPeerGone)
            gone = server.isPeerGone()
            #expect(gone)
        }

        @Test("isPeerGone waits up to its timeout for the peer to go")
        func isPeerGoneWaits() throws {
            let connection = try Connection()
            let start = ContinuousClock.now
            let gone = connection.client.isPeerGone(timeout: .milliseconds(30))
            #expect(!gone)
            #expect(start.duration(to: .now) >= .milliseconds(30))
        }

        @Test("setNonBlocking switches O_NONBLOCK; receives behave the same either way")
        func nonBlocking() throws {
            let connection = try Connection()
            #expect(fcntl(connection.client.fd, F_GETFL) & O_NONBLOCK == 0)
            #expect(fcntl(connection.server.fd, F_GETFL) & O_NONBLOCK != 0)
            try connection.client.setNonBlocking()
            #expect(fcntl(connection.client.fd, F_GETFL) & O_NONBLOCK != 0)
            #expect(throws: NTStatus.timeout) { _ = try receiveText(on: connection.client, timeout: .zero) }
            try send("to a non-blocking socket", on: connection.server)
            #expect(try receiveText(on: connection.client, timeout: nil).text == "to a non-blocking socket")
            try connection.client.setNonBlocking(false)
            #expect(fcntl(connection.client.fd, F_GETFL) & O_NONBLOCK == 0)
        }
    }
}
