import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Many client processes on one server; alone among the multi-process tests (it loads every CPU).
    @Suite("Scale", .serialized, .exclusivePeers)
    struct ScaleTests {
        @Test("One in-process server serves 64 client processes at once, 50 requests each, every reply to its sender")
        func sixtyFourClients() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let clients = 64
            let requests = 50
            let background = BackgroundServer(server, timeout: .seconds(90)) { $0.endedConnections == clients || !$0.errors.isEmpty }
            defer { background.stop() }

            let start = now()
            var peers: [PeerProcess] = []
            for index in 0..<clients {
                peers.append(try startClient(name, [
                    "--requests", "\(requests)", "--data", "client-\(index)", "--after", "disconnect", "--seconds", "60",
                ]))
            }
            for peer in peers {
                try expectLine(peer, "REPLIES \(requests)", timeout: 60)
            }
            let log = background.join()
            let elapsed = milliseconds(now() - start)
            report("64 clients x 50 sendReceive: \(elapsed) ms in all")

            #expect(log.errors.isEmpty, "\(log.errors)")
            #expect(log.accepted.count == clients)
            #expect(Set(log.accepted.map(\.pid)) == Set(peers.map(\.pid)))
            #expect(log.answered.count == clients * requests)
            #expect(Set(log.answered).count == clients * requests, "every MessageId is unique")
            #expect(log.closed.count == clients)
            #expect(log.died.isEmpty)
            for peer in peers {
                #expect(peer.exitedCleanly(), "peer \(peer.pid) printed \(peer.lines)")
            }
            #expect(server.connectionCount == 0)
        }
    }
}
