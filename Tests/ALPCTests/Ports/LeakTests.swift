import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Nothing stays behind in this process after many connections, however they end. The counts
    /// are this process's descriptors (/proc/self/fd) and mappings (/proc/self/maps): the suite
    /// runs alone among the multi-process tests, serves on the test's own thread (a new thread
    /// would leave a cached stack mapping), compares with a baseline taken after a warm-up round of
    /// the same work, and gives late closes a moment before it reads again.
    @Suite("Leaks", .serialized, .exclusivePeers)
    struct LeakTests {
        /// Runs `round` once to warm up, takes the baseline, runs it `times` more, and expects the
        /// counts back at the baseline. Tests outside the gate (and the test runtime, which may
        /// start a thread and its malloc arena meanwhile) can move the counts for reasons of their
        /// own; such noise is once-off, so a measurement that misses is taken again, up to three
        /// times. A leak shows in every attempt.
        static func expectNoLeak(_ what: String, times: Int = 1, _ round: () throws -> Void) throws {
            try round()
            var attempts: [String] = []
            var clean = false
            while !clean && attempts.count < 3 {
                let baseline = ResourceCount.settled()
                for _ in 0..<times { try round() }
                let after = resourcesReturn(to: baseline)
                attempts.append("before \(baseline), after \(after)")
                clean = after.descriptors <= baseline.descriptors && after.mappings <= baseline.mappings
            }
            report("\(what): \(attempts.joined(separator: "; "))")
            #expect(clean, "\(what) left resources behind: \(attempts)")
            #expect(sharedMemoryEntries(containing: "swiftalpc").isEmpty)
        }

        @Test("1,000 connect/disconnect cycles of an in-process client leave no descriptor or mapping behind")
        func clientCycles() throws {
            let name = uniquePortName()
            let peer = try startServer(name, ["--quiet", "--seconds", "120"])
            var cycles = 0
            try Self.expectNoLeak("1000 client cycles") {
                for _ in 0..<(cycles == 0 ? 50 : 1000) {
                    let client = try AlpcClient(portName: name, timeout: .seconds(5))
                    client.disconnect()
                    cycles += 1
                }
            }
            #expect(cycles >= 1050)
            // The peer served every one of them and is still there.
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("still serving", timeout: .seconds(5)).string == standardReply(to: "still serving"))
            withExtendedLifetime(peer) {}
        }

        @Test("1,000 connections served by an in-process server leave no descriptor or mapping behind")
        func serverCycles() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            var served = 0
            try Self.expectNoLeak("1000 server cycles") {
                let count = served == 0 ? 50 : 1000
                let peer = try startClient(name, ["--cycles", "\(count)", "--seconds", "120"])
                let log = Locked(ServeLog())
                serve(server, log: log, timeout: .seconds(120)) { $0.endedConnections == count || !$0.errors.isEmpty }
                let seen = log.snapshot
                #expect(seen.errors.isEmpty, "\(seen.errors)")
                #expect(seen.accepted.count == count)
                #expect(seen.closed.count == count)
                try expectLine(peer, "CYCLES \(count)")
                #expect(peer.exitedCleanly())
                served += count
            }
            #expect(server.connectionCount == 0)
            #expect(served >= 1050)
        }

        @Test("Client processes killed with SIGKILL leave nothing behind in the server's process")
        func killedClients() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            try Self.expectNoLeak("16 killed clients", times: 3) {
                let peers = try (0..<16).map { _ in try startClient(name, ["--requests", "2", "--after", "sleep"]) }
                let log = Locked(ServeLog())
                serve(server, log: log, timeout: .seconds(30)) { $0.answered.count == 32 || !$0.errors.isEmpty }
                for peer in peers {
                    try expectLine(peer, "SLEEPING")
                    peer.kill(signal: SIGKILL)
                }
                serve(server, log: log, timeout: .seconds(30)) { $0.died.count == 16 || !$0.errors.isEmpty }
                let seen = log.snapshot
                #expect(seen.errors.isEmpty, "\(seen.errors)")
                #expect(Set(seen.died) == Set(peers.map { UInt64($0.pid) }))
            }
            #expect(server.connectionCount == 0)
        }

        @Test("Connections that end with requests unanswered leave nothing behind, answered late or never")
        func unansweredRequests() throws {
            // A pending request holds its connection until it is answered or forgotten: every
            // such hold must be given back, or the connection's segment and descriptors stay.
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            try Self.expectNoLeak("8 connections ending with 4 requests each, half answered after the client left", times: 2) {
                let peers = try (0..<8).map { _ in try startClient(name, ["--unread", "4", "--after", "disconnect"]) }
                var unanswered: [UInt32] = []
                var closed = 0
                var requests = 0
                let deadline = ContinuousClock.now + .seconds(30)
                while closed < peers.count && ContinuousClock.now < deadline {
                    let message = try server.receive(timeout: .seconds(10))
                    switch message.messageType.kind {
                    case .connectionRequest:
                        try server.acceptConnection(message)
                    case .request:
                        requests += 1
                        if requests.isMultiple(of: 2) {
                            unanswered.append(message.port.messageId)
                        } else {
                            // The client may be gone already: answered, or refused as disconnected.
                            do throws(NTStatus) {
                                try server.reply(to: message.port.messageId, dataLength: 4) { $0.initializeMemory(as: UInt8.self, repeating: 1) }
                            } catch {
                                #expect(error == .portDisconnected)
                            }
                        }
                    case .portClosed, .clientDied:
                        closed += 1
                    default:
                        Issue.record("unexpected \(message.messageType)")
                    }
                }
                #expect(closed == peers.count)
                #expect(requests == 4 * peers.count)
                // Their connections are gone: the requests were forgotten with them.
                for messageId in unanswered {
                    #expect(throws: NTStatus.invalidMessage) {
                        try server.reply(to: messageId, dataLength: 4) { _ in }
                    }
                }
                for peer in peers { #expect(peer.exitedCleanly()) }
            }
            #expect(server.connectionCount == 0)
        }

        @Test("Server processes killed with SIGKILL leave nothing behind in the client's process")
        func killedServers() throws {
            try Self.expectNoLeak("8 killed servers", times: 3) {
                for _ in 0..<8 {
                    let name = uniquePortName()
                    let peer = try startServer(name, ["--quiet"])
                    let client = try AlpcClient(portName: name, timeout: .seconds(5))
                    #expect(try client.sendReceive("alive", timeout: .seconds(5)).string == standardReply(to: "alive"))
                    peer.kill(signal: SIGKILL)
                    #expect(throws: NTStatus.portDisconnected) { try client.sendReceive("dead", timeout: .seconds(5)) }
                }
            }
        }

        @Test("Nothing of ours is ever in /dev/shm: segments are memfds, which have no name there")
        func nothingInDevShm() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("x", timeout: .seconds(5)).string == standardReply(to: "x"))
            #expect(sharedMemoryEntries(containing: "swiftalpc").isEmpty)
            // The segment is a memfd, mapped in this process.
            let maps = try String(contentsOfProcFile: "/proc/self/maps")
            #expect(maps.contains("/memfd:swiftalpc"))
            withExtendedLifetime((peer, client)) {}
        }
    }
}

extension String {
    /// The contents of a /proc file (whose size stat does not tell).
    init(contentsOfProcFile path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PortsTests.Failure("cannot open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
