import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Several threads of one process on one port, the other side in a peer.
    @Suite("Threads", .sharedPeers)
    struct ThreadTests {
        @Test("8 threads of one in-process client sendReceive at once, 200 each, each getting its own replies")
        func clientThreads() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--quiet", "--seconds", "60"])
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            let threads = 8
            let requests = 200
            let failures = Locked<[String]>([])
            let answered = Locked(0)
            let workers = (0..<threads).map { thread in
                TestThread {
                    for index in 0..<requests {
                        let text = "thread \(thread) request \(index)"
                        do {
                            let reply = try client.sendReceive(text, timeout: .seconds(20))
                            guard reply.string == standardReply(to: text), reply.messageType.kind == .reply else {
                                failures.withLock { $0.append("\(text) got \(reply.string)") }
                                return
                            }
                            answered.withLock { $0 += 1 }
                        } catch {
                            failures.withLock { $0.append("\(text): \(error)") }
                            return
                        }
                    }
                }
            }
            for worker in workers { worker.join() }
            #expect(failures.snapshot.isEmpty, "\(failures.snapshot.prefix(5))")
            #expect(answered.snapshot == threads * requests)
            // No reply is left over for anybody.
            #expect(throws: NTStatus.timeout) { try client.receive(timeout: .milliseconds(50)) }
            withExtendedLifetime(peer) {}
        }

        @Test("4 in-process server threads receive on one port while peer clients send: every request answered exactly once")
        func serverThreads() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let clients = 6
            let requests = 100
            let log = Locked(ServeLog())
            let finished = StopFlag()
            let servers = (0..<4).map { thread in
                TestThread {
                    PortsTests.serve(server, log: log, thread: thread, timeout: .seconds(60), stop: { finished.isSet }) {
                        $0.endedConnections == clients || !$0.errors.isEmpty
                    }
                }
            }
            defer {
                finished.set()
                for thread in servers { thread.join() }
            }
            let peers = try (0..<clients).map { index in
                try startClient(name, ["--requests", "\(requests)", "--data", "peer-\(index)", "--after", "disconnect", "--seconds", "60"])
            }
            for peer in peers {
                try expectLine(peer, "REPLIES \(requests)", timeout: 60)
            }
            for thread in servers { thread.join() }
            let seen = log.snapshot
            #expect(seen.errors.isEmpty, "\(seen.errors)")
            #expect(seen.answered.count == clients * requests)
            #expect(Set(seen.answered).count == clients * requests, "each request answered exactly once")
            #expect(seen.closed.count == clients)
            let busy = seen.perThread.values.filter { $0 > 0 }.count
            report("requests answered per server thread: \(seen.perThread.sorted { $0.key < $1.key }.map(\.value))")
            #expect(busy >= 2, "the receive role moved between threads: \(seen.perThread)")
        }
    }
}
