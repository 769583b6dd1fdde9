@testable import ALPC
import CALPC
import Glibc
import Testing

extension PortsTests {
    /// A client connection's pollable descriptor: readable while a message waits for
    /// `receive`, and once the server has gone (issue 11, item 3).
    @Suite("Client poll descriptor", .sharedPeers)
    struct ClientPollTests {
        /// Whether `fd` is readable, waiting at most `milliseconds`.
        private static func isReadable(_ fd: Int32, waitingMilliseconds milliseconds: Int32 = 0) -> Bool {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, milliseconds) == 1
        }

        @Test("Readable exactly while a reply to an asynchronous request or a datagram waits, through an epoll loop")
        func repliesAnnounced() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            defer { peer.kill(signal: SIGKILL) }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let fd = try client.pollDescriptor()
            #expect(try client.pollDescriptor() == fd)
            #expect(!Self.isReadable(fd))

            // An epoll loop of the application's own, with the connection in it.
            let loop = try EventPoll()
            try loop.add(fd, token: 7, events: [.readable])
            var events = EventPoll.Buffer(capacity: 4)

            for round in 0..<3 {
                _ = try client.send(AlpcMessage(string: "async \(round)"))
                // Readable means a message may wait: receive without waiting until one does.
                var reply: AlpcMessage?
                let deadline = ContinuousClock.now + .seconds(10)
                while reply == nil && ContinuousClock.now < deadline {
                    guard try loop.wait(into: &events, timeout: .seconds(1)) == 1 else { continue }
                    #expect(events[0].token == 7)
                    reply = try? client.receive(timeout: .zero)
                }
                #expect(reply?.string == "REQUEST 'async \(round)' DONE")
                // Nothing more waits: not readable.
                #expect(!Self.isReadable(fd), "round \(round): still readable")
            }

            // Two at once: readable until both are received.
            _ = try client.send(AlpcMessage(string: "first"))
            _ = try client.send(AlpcMessage(string: "second"))
            #expect(try client.waitForMessage(timeout: .seconds(10)))
            var received: [String] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while received.count < 2 && ContinuousClock.now < deadline {
                guard Self.isReadable(fd, waitingMilliseconds: 1000) else { continue }
                if let message = try? client.receive(timeout: .zero) { received.append(message.string) }
            }
            #expect(received == ["REQUEST 'first' DONE", "REQUEST 'second' DONE"])
            #expect(!Self.isReadable(fd))

            // A synchronous call leaves nothing behind that would make it readable.
            #expect(try client.sendReceive("sync", timeout: .seconds(10)).string == "REQUEST 'sync' DONE")
            #expect(!Self.isReadable(fd, waitingMilliseconds: 50))
            #expect(try client.waitForMessage(timeout: .milliseconds(50)) == false)
            client.disconnect()
        }

        @Test("Threads calling sendReceive on a polled connection while an event loop takes asynchronous replies: nothing is lost, and the descriptor is quiet after")
        func threadsOnPolledConnection() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            defer { peer.kill(signal: SIGKILL) }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let fd = try client.pollDescriptor()
            let failures = Locked<[String]>([])
            // Blocking callers: their receives suspend and settle the doorbell request, and may
            // read (and park) the event loop's replies.
            let callers = (0..<3).map { thread in
                TestThread {
                    for index in 0..<150 {
                        let text = "thread \(thread) call \(index)"
                        do {
                            let reply = try client.sendReceive(text, timeout: .seconds(20))
                            if reply.string != PortsTests.standardReply(to: text) {
                                failures.withLock { $0.append("\(text) got \(reply.string)") }
                                return
                            }
                        } catch {
                            failures.withLock { $0.append("\(text): \(error)") }
                            return
                        }
                    }
                }
            }
            // The event loop: an asynchronous request at a time, received only once the
            // descriptor says a message may wait.
            let loop = try EventPoll()
            try loop.add(fd, token: 1, events: [.readable])
            var events = EventPoll.Buffer(capacity: 4)
            for round in 0..<60 {
                let text = "async \(round)"
                _ = try client.send(AlpcMessage(string: text))
                var reply: AlpcMessage?
                let deadline = ContinuousClock.now + .seconds(10)
                while reply == nil && ContinuousClock.now < deadline {
                    guard try loop.wait(into: &events, timeout: .seconds(1)) == 1 else { continue }
                    reply = try? client.receive(timeout: .zero)
                }
                #expect(reply?.string == PortsTests.standardReply(to: text), "round \(round)")
            }
            for caller in callers { caller.join() }
            #expect(failures.snapshot.isEmpty, "\(failures.snapshot.prefix(5))")
            // Every reply was received. A ring may land after the drain meant for it (the
            // descriptor may then be readable with nothing to receive, as its contract allows);
            // the receive that finds nothing leaves it quiet.
            #expect(throws: NTStatus.timeout) { _ = try client.receive(timeout: .zero) }
            #expect(!Self.isReadable(fd, waitingMilliseconds: 50))
            #expect(try client.waitForMessage(timeout: .milliseconds(50)) == false)
            client.disconnect()
        }

        @Test("Readable once the server is killed; the receive then says so")
        func serverGone() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let fd = try client.pollDescriptor()
            #expect(!Self.isReadable(fd))
            peer.kill(signal: SIGKILL)
            #expect(Self.isReadable(fd, waitingMilliseconds: 5000))
            #expect(throws: NTStatus.portDisconnected) { _ = try client.receive(timeout: .seconds(1)) }
        }
    }
}
