import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Who may connect, decided from the kernel's peer credentials. The peer drops to another uid
    /// (`--as-uid`) before connecting, which only root may do.
    @Suite(
        "Access", .sharedPeers,
        .enabled(if: getuid() == 0, "the access tests need root: the peer client must switch to uid 65534 before connecting")
    )
    struct AccessTests {
        static let otherUser: UInt32 = 65534

        /// Runs a peer client as `otherUser` against a server with `access` until it reports;
        /// returns the peer's report line and what the server saw.
        static func connectAsOtherUser(access: AccessPolicy) throws -> (line: String, log: ServeLog, peer: PeerProcess) {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name, access: access)
            let background = BackgroundServer(server)
            let peer = try startClient(name, ["--as-uid", "\(otherUser)", "--requests", "3", "--after", "disconnect"])
            let line = try expectLine(peer, "", timeout: 10)
            let outcome = line.hasPrefix("CONNECTING") ? try expectLine(peer, "") : line
            _ = peer.waitForExit()
            // Let the server see the end of the connection, if there was one.
            let deadline = now() + 2_000_000_000
            while now() < deadline && background.log.snapshot.endedConnections < background.log.snapshot.accepted.count {
                usleep(5_000)
            }
            return (outcome, background.stop(), peer)
        }

        @Test("By default another user's connect fails with STATUS_ACCESS_DENIED; the server never sees it")
        func otherUserDenied() throws {
            let (line, log, peer) = try Self.connectAsOtherUser(access: .sameUser)
            #expect(line == "STATUS STATUS_ACCESS_DENIED (0xC0000022)", "peer printed \(peer.lines)")
            #expect(log.accepted.isEmpty)
            #expect(log.errors.isEmpty, "\(log.errors)")
        }

        @Test("With AccessPolicy.anyUser another user connects and is served; the server sees its uid")
        func anyUserAllowed() throws {
            let (line, log, peer) = try Self.connectAsOtherUser(access: .anyUser)
            #expect(line.hasPrefix("CONNECTED"), "peer printed \(peer.lines)")
            #expect(peer.lines.contains("REPLIES 3"))
            #expect(log.accepted.count == 1)
            #expect(log.accepted.first?.pid == peer.pid)
            #expect(log.accepted.first?.uid == Self.otherUser)
            #expect(log.answered.count == 3)
            #expect(log.errors.isEmpty, "\(log.errors)")
        }

        @Test("AccessPolicy.users admits the users listed and no others")
        func listedUsers() throws {
            let admitted = try Self.connectAsOtherUser(access: .users([Self.otherUser]))
            #expect(admitted.line.hasPrefix("CONNECTED"), "peer printed \(admitted.peer.lines)")
            #expect(admitted.log.accepted.first?.uid == Self.otherUser)
            let refused = try Self.connectAsOtherUser(access: .users([Self.otherUser - 1]))
            #expect(refused.line == "STATUS STATUS_ACCESS_DENIED (0xC0000022)", "peer printed \(refused.peer.lines)")
            #expect(refused.log.accepted.isEmpty)
        }

        @Test("The server's own user is always admitted, whatever the policy")
        func sameUserAlwaysAdmitted() throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name, access: .users([Self.otherUser]))
            let background = BackgroundServer(server)
            defer { background.stop() }
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("me", timeout: .seconds(5)).string == standardReply(to: "me"))
        }
    }
}
