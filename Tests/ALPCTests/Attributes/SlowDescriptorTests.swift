import ALPC
import CALPC
import Glibc
import Testing

extension AttributesTests {
    /// A peer chooses what its descriptors are, and closing one can block (a FUSE file, a TCP
    /// socket lingering with unsent data): the library closes them on a thread of its own, so
    /// a receive never waits on one (issue 10, item 2).
    @Suite("Descriptors whose close blocks", .sharedPeers)
    struct SlowDescriptorTests {
        @Test("The next receive into a message that owns a lingering TCP socket is not held up by its close")
        func lingeringSocket() throws {
            let session = try AttributeSession(["linger:3", "plain", "sleep:5000"])
            let message = AlpcMessage(size: 0x2000)
            try session.nextRequest(into: message)
            #expect(message.string == "linger")
            #expect(message.validAttributes.contains(.handle))
            try session.answer(message)
            _ = try session.line("LINGER")
            // Receiving again closes the socket the message still owns: its last descriptor.
            let start = AttributeSession.now()
            try session.nextRequest(into: message)
            let elapsed = AttributeSession.now() - start
            #expect(message.string == "Complex Message 1")
            #expect(elapsed < 1, "the receive took \(elapsed) s")
            try session.answer(message)
            _ = try session.line("PLAIN")
        }
    }
}
