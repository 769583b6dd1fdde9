@testable import ALPC
import CALPC
import CALPCSystem
import Glibc
import Synchronization
import Testing

/// Peers that break the protocol on purpose, played by hand against real processes (issue 10,
/// item 4). Each case asserts that the victim survives, that an honest client is still served,
/// and that the victim's descriptors and memory return to their baseline.
@Suite("Hostile peers", .serialized, .exclusivePeers)
enum HostileTests {}

extension HostileTests {
    /// What a hostile client does to a server; the server is an `alpc-test-peer server`.
    enum ClientAttack: String, CaseIterable, CustomStringConvertible, Sendable {
        case hugeRecordLength, zeroRecordLength, unknownKind, dataLengthBeyondRecord, garbageAttributes
        case attachmentFlagWithoutPacket, tailFarAhead, tailBackwards, replyHeadMoved
        case recordRewrittenWhileRead, garbageControlPackets, serverPacketsFromClient
        case sectionThatIsNotMemfd, wakeupThatIsNotEventfd, attachmentThatLies, descriptorLadenGarbage, datagramFlood
        case connectStorm

        var description: String { rawValue }

        /// Whether the server must end the connection (a protocol violation it can see).
        var mustBeDropped: Bool {
            switch self {
            case .recordRewrittenWhileRead, .datagramFlood, .connectStorm: false
            default: true
            }
        }
    }

    @Suite("Against a server")
    struct HostileClientTests {
        @Test("The server survives, serves an honest client and returns to its baseline", arguments: ClientAttack.allCases)
        func attack(_ attack: ClientAttack) throws {
            let name = uniquePortName("hostile-\(attack)")
            let victim = try PortsTests.startServer(name, ["--quiet", "--seconds", "60"])
            defer { victim.kill(signal: SIGKILL) }
            // Warm up: the first connection and round trip allocate what every later one reuses.
            try Self.expectHonestClientServed(name)
            try Self.expectHonestClientServed(name)
            let descriptors = try Self.settledDescriptorCount(victim.pid)
            let memory = HostileEnvironment.residentKiB(victim.pid)

            try Self.perform(attack, on: name)

            guard HostileEnvironment.isRunning(victim.pid) else {
                Issue.record("the server died (wait status \(victim.waitForExit(timeout: 1).map { String($0) } ?? "-")): \(victim.lines)")
                return
            }
            try Self.expectHonestClientServed(name)
            // Everything the attacker made the server hold is released (the server may take a
            // moment to see the last connection go).
            let deadline = HostileEnvironment.now() + 5
            var now = HostileEnvironment.descriptorCount(victim.pid)
            while now != descriptors && HostileEnvironment.now() < deadline {
                usleep(20_000)
                now = HostileEnvironment.descriptorCount(victim.pid)
            }
            #expect(now == descriptors, "descriptors \(descriptors) -> \(now)")
            // Under a sanitizer, freed memory stays in quarantine: only an ordinary build can tell.
            if getenv("SWIFTALPC_SANITIZER") == nil {
                let grown = HostileEnvironment.residentKiB(victim.pid) - memory
                #expect(grown < 16 * 1024, "resident memory grew by \(grown) KiB")
            }
        }

        @Test("Connections that take every descriptor of a server under a low RLIMIT_NOFILE: others are refused with a status, the server does not spin, and serves again once they go")
        func descriptorExhaustion() throws {
            let name = uniquePortName("hostile-exhaustion")
            let victim = try PortsTests.startServer(name, ["--quiet", "--nofile", "48", "--seconds", "60"])
            defer { victim.kill(signal: SIGKILL) }
            try Self.expectHonestClientServed(name)
            let descriptors = try Self.settledDescriptorCount(victim.pid)
            let cpuBefore = HostileEnvironment.cpuSeconds(victim.pid)
            // Each connection holds three of the server's descriptors (socket, segment, doorbell).
            var hands: [HandClient] = []
            var refused: [NTStatus] = []
            for _ in 0..<30 {
                do {
                    hands.append(try HandClient(name))
                } catch let status as NTStatus {
                    refused.append(status)
                }
            }
            #expect(!hands.isEmpty)
            #expect(!refused.isEmpty)
            #expect(refused.allSatisfy { $0 == .insufficientResources }, "\(refused)")
            usleep(500_000)
            let cpu = HostileEnvironment.cpuSeconds(victim.pid) - cpuBefore
            #expect(cpu < 0.3, "the server used \(cpu) s of CPU while out of descriptors")
            hands.removeAll()
            // Once they are gone, the server serves again and holds what it held before.
            let deadline = HostileEnvironment.now() + 5
            while HostileEnvironment.descriptorCount(victim.pid) != descriptors && HostileEnvironment.now() < deadline {
                usleep(20_000)
            }
            #expect(HostileEnvironment.descriptorCount(victim.pid) == descriptors)
            try Self.expectHonestClientServed(name)
            #expect(HostileEnvironment.isRunning(victim.pid))
        }

        /// The victim's descriptor count once it stops changing.
        static func settledDescriptorCount(_ pid: pid_t) throws -> Int {
            var last = HostileEnvironment.descriptorCount(pid)
            for _ in 0..<50 {
                usleep(20_000)
                let now = HostileEnvironment.descriptorCount(pid)
                if now == last { return now }
                last = now
            }
            return last
        }

        /// An in-process client connects, gets its reply and disconnects.
        static func expectHonestClientServed(_ name: String) throws {
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            defer { client.disconnect() }
            #expect(try client.sendReceive("honest", timeout: .seconds(10)).string == "REQUEST 'honest' DONE")
        }

        static func perform(_ attack: ClientAttack, on name: String) throws {
            if attack == .connectStorm {
                // 300 sockets that connect and go at once, half after a CONNECT packet.
                for index in 0..<300 {
                    let socket = try ControlSocket.connect(to: PortName(name))
                    if index % 2 == 0 {
                        try? socket.send(.connect(.init(threadId: 1, flags: 0, attributes: PortAttributes.client.raw, message: [])))
                    }
                    socket.close()
                }
                return
            }
            let hand = try HandClient(name)
            let header = MemoryLayout<ALPC_SLOT_HEADER>.size
            switch attack {
            case .hugeRecordLength:
                hand.publish { $0.storeBytes(of: UInt32.max, as: UInt32.self) }
            case .zeroRecordLength:
                hand.publish { $0.initializeMemory(as: UInt8.self, repeating: 0, count: header) }
            case .unknownKind:
                try hand.publishValid("kind")
                try hand.publishValid("unknown kind", kind: 0x77, cookie: 2)
            case .dataLengthBeyondRecord:
                hand.publish { slot in
                    let message = try! AlpcMessage(string: "lies")
                    SlotRecord.write(
                        message, dataLength: message.dataLength, kind: ALPC_RECORD_REQUEST, cookie: 1,
                        clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0, to: slot)
                    // DataLength and TotalLength far beyond the record.
                    (slot + header).storeBytes(of: UInt16(0xFFF0), as: UInt16.self)
                    (slot + header + 2).storeBytes(of: UInt16(0xFFF8), as: UInt16.self)
                }
            case .garbageAttributes:
                hand.publish { slot in
                    let message = try! AlpcMessage(string: "attributes")
                    SlotRecord.write(
                        message, dataLength: message.dataLength, kind: ALPC_RECORD_REQUEST, cookie: 1,
                        clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0, to: slot)
                    let padded = (message.dataLength + 7) & ~7
                    let area = slot + header + MemoryLayout<PORT_MESSAGE>.size + padded
                    for offset in stride(from: 0, to: 256, by: 4) {
                        (area + offset).storeBytes(of: UInt32.random(in: 0...UInt32.max), as: UInt32.self)
                    }
                    // AttributeLength 256, RecordLength to match.
                    (slot + 12).storeBytes(of: UInt32(256), as: UInt32.self)
                    slot.storeBytes(of: UInt32(MemoryLayout<PORT_MESSAGE>.size + padded + 256), as: UInt32.self)
                }
            case .attachmentFlagWithoutPacket:
                try hand.publishValid("flagged", flags: ALPC_SLOT_FLAG_ATTACHMENT)
            case .tailFarAhead:
                hand.setTail(5_000)
            case .tailBackwards:
                try hand.publishValid("first")
                usleep(100_000)
                hand.setTail(0 &- 3)
            case .replyHeadMoved:
                // The server's reply ring: its head is the client's to write. The server reads it
                // when the ring looks full: after 64 replies the client never read.
                hand.replies.head.pointee.store(0x8000_0000, ordering: .releasing)
                for index in 0..<70 {
                    guard hand.waitForRoom() else { break }
                    try hand.publishValid("answer me \(index)")
                }
            case .recordRewrittenWhileRead:
                for round in 0..<200 {
                    guard hand.waitForRoom() else { break }
                    try hand.publishValid("rewritten \(round)")
                    // Scribble over the record just published while the server may be reading it.
                    let slot = hand.requests.slot(hand.tail &- 1)
                    for _ in 0..<50 {
                        slot.storeBytes(of: UInt32.random(in: 0...0x2000), as: UInt32.self)
                        (slot + 12).storeBytes(of: UInt32.random(in: 0...600), as: UInt32.self)
                        (slot + header).storeBytes(of: UInt32.random(in: 0...UInt32.max), as: UInt32.self)
                    }
                }
            case .garbageControlPackets:
                for _ in 0..<100 {
                    hand.sendRaw((0..<Int.random(in: 1...300)).map { _ in UInt8.random(in: 0...255) })
                }
            case .serverPacketsFromClient:
                hand.sendRaw(ControlPacket.accept(serverPid: 1, message: []).encoded())
                hand.sendRaw(ControlPacket.refuse(status: .success, message: []).encoded())
            case .sectionThatIsNotMemfd:
                let file = open("/dev/null", O_RDONLY)
                hand.sendRaw(ControlPacket.section(id: 1, size: 4096).encoded(), fds: [file])
                close(file)
            case .wakeupThatIsNotEventfd:
                let file = open("/dev/null", O_RDONLY)
                hand.sendRaw(ControlPacket.wakeup.encoded(), fds: [file])
                close(file)
            case .attachmentThatLies:
                let event = eventfd(0, 0)
                let header = ControlPacket.AttachmentHeader(sequence: 1, handleCount: 5, eventCount: 0, firstDescriptor: 0)
                hand.sendRaw(ControlPacket.attachment(header).encoded(), fds: [event])
                close(event)
                try hand.publishValid("lying attachment", flags: ALPC_SLOT_FLAG_ATTACHMENT)
            case .descriptorLadenGarbage:
                let events = (0..<200).map { _ in eventfd(0, 0) }
                hand.sendRaw([0xFF, 0xFF, 0xFF, 0x7F] + [UInt8](repeating: 0, count: 12), fds: events)
                for fd in events { close(fd) }
            case .datagramFlood:
                var sent = 0
                while sent < 20_000 && hand.waitForRoom() {
                    try hand.publishValid("flood \(sent)", kind: ALPC_RECORD_DATAGRAM, cookie: 0)
                    sent += 1
                }
                #expect(sent == 20_000)
            case .connectStorm:
                break
            }
            if attack.mustBeDropped {
                #expect(hand.waitUntilDropped(), "the server kept a connection that broke the protocol")
            }
        }
    }
}
