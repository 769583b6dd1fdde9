import ALPC
import Testing

extension TransportTests {
    /// `ControlListener`: names taken and freed, connecting, accepting.
    @Suite("ControlListener", .sharedPeers)
    struct ControlListenerTests {
        @Test("Listening twice on one name throws objectNameCollision")
        func listenTwice() throws {
            let name = try uniquePortName()
            let first = try ControlListener.listen(on: name)
            #expect(throws: NTStatus.objectNameCollision) { _ = try ControlListener.listen(on: name) }
            first.close()
        }

        @Test("Connecting to a name nobody listens on throws objectNameNotFound")
        func connectToUnknownName() throws {
            let name = try uniquePortName()
            #expect(throws: NTStatus.objectNameNotFound) { _ = try ControlSocket.connect(to: name) }
        }

        @Test("Accept returns nil when no connection is pending, a socket when one is")
        func acceptPending() throws {
            let listener = try ControlListener.listen(on: try uniquePortName())
            #expect(try accepted(by: listener) == false)
            let client = try ControlSocket.connect(to: listener.name)
            #expect(try accepted(by: listener) == true)
            #expect(try accepted(by: listener) == false)
            client.close()
        }

        @Test("A closed listener's name is free again at once; its connections stay up")
        func nameFreedOnClose() throws {
            let name = try uniquePortName()
            let first = try ControlListener.listen(on: name)
            let connection = try Connection(connectingTo: first)
            first.close()
            #expect(throws: NTStatus.objectNameNotFound) { _ = try ControlSocket.connect(to: name) }

            let second = try ControlListener.listen(on: name)
            let client = try ControlSocket.connect(to: name)
            #expect(try accepted(by: second) == true)
            client.close()

            // The connection made through the first listener still carries packets.
            try send("still here", on: connection.client)
            #expect(try receiveText(on: connection.server).text == "still here")
        }

        /// Whether `listener` had a connection to accept (which is then closed).
        private func accepted(by listener: borrowing ControlListener) throws -> Bool {
            guard let socket = try listener.accept() else { return false }
            socket.close()
            return true
        }
    }
}
