@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Synchronization
import Testing

extension HostileTests {
    /// What a malicious server does to a client that connects to it; the client is an
    /// `alpc-test-peer client` that sends requests.
    enum ServerAttack: String, CaseIterable, CustomStringConvertible, Sendable {
        case segmentWithBadMagic, segmentSmallerThanHeader, segmentLargerThanFile, unsealedSegment
        case segmentThatIsNotMemfd, oneDescriptorOnly, garbageReply, replyTailFarAhead
        case datagramFlood, garbageControlPackets

        var description: String { rawValue }
    }

    @Suite("Against a client")
    struct MaliciousServerTests {
        @Test("The client ends with an error status, never a signal, a hang or unbounded memory", arguments: ServerAttack.allCases)
        func attack(_ attack: ServerAttack) throws {
            let name = try PortName(uniquePortName("malicious-\(attack)"))
            let listener = try ControlListener.listen(on: name)
            let victim = try PortsTests.startClient(name.windowsName, ["--requests", "3", "--seconds", "30"])
            defer { victim.kill(signal: SIGKILL) }
            let socket = try Self.acceptOne(listener)
            let (packet, fds) = try socket.receivePacket(maxFDs: 2, timeout: .seconds(5))
            for fd in fds { close(fd) }
            guard case .connect = packet else {
                Issue.record("expected a CONNECT packet")
                return
            }
            try Self.perform(attack, on: socket, victim: victim)

            // The client must end by itself, with a status: exit code 1 after "STATUS ...".
            let status = victim.waitForExit(timeout: 15)
            let exited = status.map { $0 & 0x7F == 0 } ?? false
            #expect(exited, "wait status \(status.map { String($0) } ?? "none"): \(victim.lines)")
            #expect(victim.lines.contains { $0.hasPrefix("STATUS") }, "\(victim.lines)")
        }

        /// The next connection of `listener`, within 10 s.
        static func acceptOne(_ listener: borrowing ControlListener) throws -> ControlSocket {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let socket = try listener.accept() { return socket }
                usleep(1000)
            }
            throw NTStatus.timeout
        }

        /// A sealed memfd of `size` bytes holding `header` at its start.
        static func memfd(size: Int, header: ALPC_SEGMENT_HEADER, seal: Bool = true) -> Int32 {
            let fd = alpc_memfd_create("swiftalpc-malicious", UInt64(size))
            var copy = header
            _ = withUnsafeBytes(of: &copy) { pwrite(fd, $0.baseAddress, min($0.count, size), 0) }
            if seal { _ = alpc_memfd_seal(fd) }
            return fd
        }

        /// A header as an honest server writes it, for a geometry of 64 slots of 0x1000 bytes.
        static func honestHeader() -> ALPC_SEGMENT_HEADER {
            SegmentGeometry(maxMessageLength: 0x1000).header(serverPid: getpid())
        }

        static func sendAccept(_ socket: borrowing ControlSocket, segment: Int32, doorbell: Int32?) throws {
            let fds = doorbell.map { [segment, $0] } ?? [segment]
            try socket.send(.accept(serverPid: getpid(), message: [], connectionFlags: 0, dupObjectTypes: 0), fds: fds)
        }

        static func perform(_ attack: ServerAttack, on socket: borrowing ControlSocket, victim: PeerProcess) throws {
            let doorbell = try Doorbell()
            let honest = honestHeader()
            let size = Int(honest.SegmentSize)
            switch attack {
            case .segmentWithBadMagic:
                var header = honest
                header.Magic = 0x4141_4141
                let fd = memfd(size: size, header: header)
                try sendAccept(socket, segment: fd, doorbell: doorbell.fd)
                close(fd)
            case .segmentSmallerThanHeader:
                let fd = memfd(size: 16, header: honest)
                try sendAccept(socket, segment: fd, doorbell: doorbell.fd)
                close(fd)
            case .segmentLargerThanFile:
                var header = honest
                header.SegmentSize = UInt64(size * 4)
                header.SlotCount = 256
                let fd = memfd(size: size, header: header)
                try sendAccept(socket, segment: fd, doorbell: doorbell.fd)
                close(fd)
            case .unsealedSegment:
                // Unsealed, the server could shrink it under the client (SIGBUS): refused.
                let fd = memfd(size: size, header: honest, seal: false)
                try sendAccept(socket, segment: fd, doorbell: doorbell.fd)
                _ = ftruncate(fd, 0)
                close(fd)
            case .segmentThatIsNotMemfd:
                let fd = open("/dev/zero", O_RDWR)
                try sendAccept(socket, segment: fd, doorbell: doorbell.fd)
                close(fd)
            case .oneDescriptorOnly:
                let segment = try ConnectionSegment.create(geometry: SegmentGeometry(maxMessageLength: 0x1000), serverPid: getpid())
                try sendAccept(socket, segment: segment.fileDescriptor, doorbell: nil)
            case .garbageReply, .replyTailFarAhead, .datagramFlood:
                let segment = try ConnectionSegment.create(geometry: SegmentGeometry(maxMessageLength: 0x1000), serverPid: getpid())
                try sendAccept(socket, segment: segment.fileDescriptor, doorbell: doorbell.fd)
                let replies = segment.ring(.toClient)
                switch attack {
                case .garbageReply:
                    let slot = replies.slot(0)
                    for offset in stride(from: 0, to: 256, by: 4) {
                        (slot + offset).storeBytes(of: UInt32.random(in: 0...UInt32.max), as: UInt32.self)
                    }
                    replies.tail.pointee.store(1, ordering: .releasing)
                    _ = alpc_futex_wake(replies.tailAddress, Int32.max)
                case .replyTailFarAhead:
                    replies.tail.pointee.store(1_000_000, ordering: .releasing)
                    _ = alpc_futex_wake(replies.tailAddress, Int32.max)
                default:
                    // Datagrams the client never asked for, as fast as it takes them, until it leaves.
                    let message = try AlpcMessage(string: "unasked")
                    var tail: UInt32 = 0
                    let deadline = HostileEnvironment.now() + 10
                    while HostileEnvironment.now() < deadline && HostileEnvironment.isRunning(victim.pid) {
                        if tail &- replies.head.pointee.load(ordering: .acquiring) >= UInt32(segment.geometry.slotCount) {
                            usleep(50)
                            continue
                        }
                        SlotRecord.write(
                            message, dataLength: message.dataLength, kind: ALPC_RECORD_DATAGRAM, cookie: 0,
                            clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0, to: replies.slot(tail))
                        tail &+= 1
                        replies.tail.pointee.store(tail, ordering: .releasing)
                        _ = alpc_futex_wake(replies.tailAddress, Int32.max)
                    }
                }
                // Keep the segment mapped until the client is done with it.
                _ = victim.waitForExit(timeout: 15)
            case .garbageControlPackets:
                let segment = try ConnectionSegment.create(geometry: SegmentGeometry(maxMessageLength: 0x1000), serverPid: getpid())
                try sendAccept(socket, segment: segment.fileDescriptor, doorbell: doorbell.fd)
                let events = (0..<100).map { _ in eventfd(0, 0) }
                for _ in 0..<50 {
                    let bytes = (0..<Int.random(in: 1...200)).map { _ in UInt8.random(in: 0...255) }
                    bytes.withUnsafeBytes { _ = try? socket.send($0, fds: Array(events.prefix(3)), timeout: .seconds(1)) }
                }
                for fd in events { close(fd) }
                // A reply that says its descriptors came ahead: the client reads the packets now.
                let replies = segment.ring(.toClient)
                let message = try AlpcMessage(string: "flagged")
                SlotRecord.write(
                    message, dataLength: message.dataLength, kind: ALPC_RECORD_REPLY, cookie: 1,
                    clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0,
                    flags: ALPC_SLOT_FLAG_ATTACHMENT, to: replies.slot(0))
                replies.tail.pointee.store(1, ordering: .releasing)
                _ = alpc_futex_wake(replies.tailAddress, Int32.max)
                _ = victim.waitForExit(timeout: 15)
            }
        }
    }
}
