@testable import ALPC
import CALPC
import Dispatch
import Glibc
import Testing

extension TransportTests {
    /// Sockets that connect to a port and never send their CONNECT packet: each holds one of
    /// the server's descriptors, so they get a deadline and a cap.
    @Suite("Handshake limits", .sharedPeers)
    struct HandshakeLimitTests {
        @Test("Silent sockets are closed after the deadline, refused beyond the cap; an honest client is served")
        func silentSockets() throws {
            let name = try uniquePortName()
            let server = try AlpcServer(portName: name.windowsName)
            server.core.controlPlane.handshakeDeadlineNanos = 300_000_000
            server.core.controlPlane.maxHandshakesAwaitingConnect = 4
            // Six connections that say nothing.
            let silent = (0..<6).map { _ in
                name.socketAddress.withUnsafeBytes { system_connect(abstractName: $0) }
            }
            defer { for fd in silent where fd >= 0 { close(fd) } }
            #expect(silent.allSatisfy { $0 >= 0 })

            // The server accepts them while it receives (nothing comes: it times out).
            let start = ContinuousClock.now
            var refused = 0
            var closed = 0
            while ContinuousClock.now - start < .seconds(5) && refused + closed < silent.count {
                #expect(throws: NTStatus.timeout) { try server.receive(timeout: .milliseconds(100)) }
                refused = 0
                closed = 0
                for fd in silent {
                    switch Self.peerState(fd) {
                    case .refusedForQuota: refused += 1
                    case .closed: closed += 1
                    case .open: break
                    }
                }
            }
            // Two beyond the cap were refused at once; the four others closed at their deadline.
            #expect(refused == 2)
            #expect(closed == 4)
            #expect(ContinuousClock.now - start >= .milliseconds(250))

            // An honest client is accepted and served afterwards.
            let accepted = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                if let request = try? server.receive(timeout: .seconds(5)) { _ = try? server.acceptConnection(request) }
                accepted.signal()
            }
            let client = try AlpcClient(portName: name.windowsName, timeout: .seconds(5))
            #expect(accepted.wait(timeout: .now() + .seconds(10)) == .success)
            client.disconnect()
        }

        private enum PeerState { case open, refusedForQuota, closed }

        /// What the server did with the raw socket `fd`: nothing yet, refused it (a REFUSE
        /// packet with STATUS_QUOTA_EXCEEDED), or closed it (end of file).
        private static func peerState(_ fd: Int32) -> PeerState {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 0) == 1 else { return .open }
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            guard count > 0 else { return .closed }
            let decoded = buffer.withUnsafeBytes { raw in
                try? ControlPacket(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            }
            if case .refuse(let status, _)? = decoded, status == .quotaExceeded { return .refusedForQuota }
            return .open
        }
    }
}
