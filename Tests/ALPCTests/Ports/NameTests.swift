import ALPC
import Glibc
import Testing

extension PortsTests {
    /// Port names across processes: taken, unknown, malformed.
    @Suite("Names", .sharedPeers)
    struct NameTests {
        @Test("Creating a port whose name a peer server holds fails with objectNameCollision")
        func collisionWithPeer() throws {
            let name = uniquePortName()
            let peer = try startServer(name)
            #expect(throws: NTStatus.objectNameCollision) { _ = try AlpcServer(portName: name) }
            // The same name written without its leading backslash is the same port.
            #expect(throws: NTStatus.objectNameCollision) { _ = try AlpcServer(portName: String(name.dropFirst())) }
            // The peer still serves it.
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("still here", timeout: .seconds(5)).string == standardReply(to: "still here"))
            withExtendedLifetime(peer) {}
        }

        @Test("Connecting to a name nobody serves fails with objectNameNotFound, also once its server died")
        func unknownName() throws {
            let name = uniquePortName()
            #expect(throws: NTStatus.objectNameNotFound) { _ = try AlpcClient(portName: name, timeout: .seconds(1)) }

            let peer = try startServer(name)
            _ = try AlpcClient(portName: name, timeout: .seconds(5))
            peer.kill(signal: SIGKILL)
            #expect(throws: NTStatus.objectNameNotFound) { _ = try AlpcClient(portName: name, timeout: .seconds(1)) }
            // The name is free again at once: this process can take it.
            let server = try AlpcServer(portName: name)
            #expect(server.portName == name)
        }

        static let malformedNames: [String] = [
            "",
            "\\",
            "\\RPC Control\\",
            "\\RPC Control\\\\Double",
            "\\RPC Control\\Embedded\0Nul",
            "\\RPC Control\\" + String(repeating: "x", count: 90),
        ]

        @Test("A malformed name is objectNameInvalid, for a server and for a client", arguments: malformedNames)
        func malformed(name: String) throws {
            #expect(throws: NTStatus.objectNameInvalid) { _ = try AlpcServer(portName: name) }
            #expect(throws: NTStatus.objectNameInvalid) { _ = try AlpcClient(portName: name, timeout: .seconds(1)) }
        }

        @Test("The longest valid name (97 bytes) works across processes; one byte more is invalid")
        func longestName() throws {
            let prefix = uniquePortName() + "-"
            let name = prefix + String(repeating: "y", count: 97 - prefix.utf8.count)
            #expect(name.utf8.count == 97)
            let peer = try startServer(name)
            let client = try AlpcClient(portName: name, timeout: .seconds(5))
            #expect(try client.sendReceive("long", timeout: .seconds(5)).string == standardReply(to: "long"))
            #expect(throws: NTStatus.objectNameInvalid) { _ = try AlpcClient(portName: name + "y", timeout: .seconds(1)) }
            withExtendedLifetime(peer) {}
        }
    }
}
