@testable import ALPC
import Dispatch
import Glibc
import Testing

extension TransportTests {
    /// What a client's connect reports when a server refuses it: only refusal statuses, played
    /// by a server that speaks the control protocol by hand.
    @Suite("Refusals", .sharedPeers)
    struct RefusalTests {
        @Test(
            "A refusal's status reaches the client only when it is a refusal status",
            arguments: [
                (NTStatus.portConnectionRefused, NTStatus.portConnectionRefused),
                (.accessDenied, .accessDenied),
                (.insufficientResources, .insufficientResources),
                (.success, .portConnectionRefused),
                (.timeout, .portConnectionRefused),
                (.objectNameNotFound, .portConnectionRefused),
                (.bufferTooSmall, .portConnectionRefused),
            ])
        func refusal(sent: NTStatus, seen: NTStatus) throws {
            let name = try uniquePortName()
            let listener = try ControlListener.listen(on: name)
            let outcome = Locked<NTStatus?>(nil)
            let connected = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                do throws(NTStatus) {
                    _ = try AlpcClient(portName: name.windowsName, timeout: .seconds(5))
                    outcome.withLock { $0 = .success }
                } catch {
                    outcome.withLock { $0 = error }
                }
                connected.signal()
            }
            // The server's side, by hand: accept, read the CONNECT packet, refuse.
            let server = try Self.acceptOne(listener)
            let (packet, fds) = try server.receivePacket(maxFDs: 2, timeout: .seconds(5))
            #expect(fds.isEmpty)
            guard case .connect = packet else {
                Issue.record("expected a CONNECT packet")
                return
            }
            try server.send(ControlPacket.refuse(status: sent, message: []))
            #expect(connected.wait(timeout: .now() + .seconds(10)) == .success)
            #expect(outcome.withLock { $0 } == seen)
            server.close()
            listener.close()
        }

        /// The next connection of `listener`, within 5 s.
        private static func acceptOne(_ listener: borrowing ControlListener) throws -> ControlSocket {
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                if let socket = try listener.accept() { return socket }
                usleep(1000)
            }
            throw NTStatus.timeout
        }
    }
}
