@testable import ALPC
import CALPC
import CALPCSystem

/// The decoders of peer input, each fuzzed on its own. Every one must turn any bytes into a
/// value it can trust or an error: never a crash, an out-of-bounds access or a hang.
enum FuzzTarget: String, CaseIterable {
    /// Control packets, decoded, re-encoded, and fed to a connection's `PeerResources`.
    case controlPackets = "control-packets"
    /// A slot record as a peer publishes it: inspected, its attributes decoded, copied out.
    case slotRecords = "slot-records"
    /// A segment header a server sends, against the size of the file that carries it.
    case segmentGeometry = "segment-geometry"

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .controlPackets: Self.controlPackets(bytes)
        case .slotRecords: Self.slotRecords(bytes)
        case .segmentGeometry: Self.segmentGeometry(bytes)
        }
    }

    // MARK: Control packets

    /// One connection's state, kept across inputs so that sequences of packets are explored.
    static let peer = PeerResources(quota: PortQuota(attributes: .server))

    /// The input is a sequence of packets, each preceded by a one-byte length.
    static func controlPackets(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let length = min(Int(bytes[offset]), bytes.count - offset - 1)
            let packetBytes = UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<(offset + 1 + length)])
            offset += 1 + length
            guard let packet = try? ControlPacket(decoding: packetBytes) else { continue }
            // What decodes re-encodes to what decodes the same way.
            let encoded = packet.encoded()
            let again = encoded.withUnsafeBytes { try? ControlPacket(decoding: $0) }
            guard let again, again.encoded() == encoded else { fatalError("\(packet) does not survive encoding") }
            _ = peer.accept(packet, fds: [])
        }
    }

    // MARK: Slot records

    static let geometry = SegmentGeometry(maxMessageLength: 0x1000)
    /// libFuzzer runs one input at a time, on one thread.
    nonisolated(unsafe) static let slot: UnsafeMutableRawPointer = .allocate(byteCount: geometry.slotSize, alignment: 64)
    static let recordPeer = PeerResources(quota: PortQuota(attributes: .server))
    static let policy = HandlePolicy(
        connectionFlags: ALPC_PORFLG_ALLOW_DUP_OBJECT | ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE,
        sendTypes: 0xFFFF_FFFF, receiveTypes: 0xFFFF_FFFF)
    nonisolated(unsafe) static let message = AlpcMessage(size: 0x2000)

    /// The input is the start of a slot (the rest is zero).
    static func slotRecords(_ bytes: UnsafeRawBufferPointer) {
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: geometry.slotSize)
        if let base = bytes.baseAddress {
            slot.copyMemory(from: base, byteCount: min(bytes.count, geometry.slotSize))
        }
        guard let record = try? SlotRecord.inspect(
            slot, maxRecordLength: geometry.maxRecordLength, maxMessageLength: geometry.maxMessageLength)
        else { return }
        // What inspect accepts lies inside the slot.
        let end = SlotRecord.slotHeaderSize + SlotRecord.headerSize + ((record.dataLength + 7) & ~7) + record.attributeLength
        guard end <= geometry.slotSize else { fatalError("record of \(end) bytes in a slot of \(geometry.slotSize)") }
        let inbound = InboundAttributesHold(
            (try? InboundAttributes.decode(
                area: record.attributeArea, length: record.attributeLength, attachment: nil, peer: recordPeer,
                policy: policy)) ?? nil)
        _ = SlotRecord.bytes(of: record)
        // Loaded as a receive loads it into a message.
        let sink = CopyingSink(message: message)
        if (try? sink.load(from: UnsafeRawPointer(slot + SlotRecord.slotHeaderSize), dataLength: record.dataLength)) != nil {
            InboundAttributes.install(inbound, into: message, context: nil, sender: PeerCredentials(pid: 1, uid: 1, gid: 1))
            guard message.dataLength == record.dataLength else { fatalError("copied \(message.dataLength) of \(record.dataLength)") }
        }
    }

    // MARK: Segment geometry

    /// The input is a segment header, then the file's size (8 bytes, little-endian).
    static func segmentGeometry(_ bytes: UnsafeRawBufferPointer) {
        var header = ALPC_SEGMENT_HEADER()
        let headerSize = MemoryLayout<ALPC_SEGMENT_HEADER>.size
        withUnsafeMutableBytes(of: &header) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(headerSize)))
        }
        var fileSize = 0
        if bytes.count >= headerSize + 8 {
            fileSize = Int(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: headerSize, as: UInt64.self))
        }
        guard let geometry = try? SegmentGeometry(validating: header, fileSize: fileSize) else { return }
        // Both rings' slots, and every record a slot may hold, lie inside the file.
        let lastSlotEnd = Int(ALPC_SEGMENT_SLOTS_OFFSET) + 2 * geometry.slotCount * geometry.slotSize
        guard lastSlotEnd <= fileSize, lastSlotEnd <= geometry.segmentSize,
            geometry.maxRecordLength + SlotRecord.slotHeaderSize <= geometry.slotSize,
            SlotRecord.headerSize + geometry.maxMessageLength <= geometry.maxRecordLength
        else { fatalError("geometry \(geometry) escapes a file of \(fileSize) bytes") }
    }

    // MARK: Seeds

    /// Well-formed inputs to start from.
    var seeds: [[UInt8]] {
        switch self {
        case .controlPackets:
            let message = (try? AlpcMessage(string: "hello")).map {
                Array(UnsafeRawBufferPointer(start: $0.port.start, count: SlotRecord.headerSize + $0.dataLength))
            } ?? []
            let packets: [ControlPacket] = [
                .connect(.init(threadId: 7, flags: 0, attributes: PortAttributes.client.raw, message: message)),
                .accept(serverPid: 9, message: message, connectionFlags: 1, dupObjectTypes: 0xFFFF_FFFF),
                .refuse(status: .portConnectionRefused, message: []),
                .disconnect,
                .section(id: 3, size: 0x1000),
                .releaseSection(id: 3),
                .attachment(.init(sequence: 1, handleCount: 2, eventCount: 1, firstDescriptor: 0)),
                .wakeup,
            ]
            // Each packet alone, then the short ones in one sequence.
            var seeds = packets.map { packet -> [UInt8] in
                let bytes = packet.encoded()
                return [UInt8(min(bytes.count, 255))] + bytes.prefix(255)
            }
            seeds.append(packets.suffix(4).flatMap { packet -> [UInt8] in
                let bytes = packet.encoded()
                return [UInt8(bytes.count)] + bytes
            })
            return seeds
        case .slotRecords:
            var seeds: [[UInt8]] = []
            for attributes in [AttributeFlags(), AttributeFlags([.security, .workOnBehalf])] {
                let message = (try? AlpcMessage(string: "a request"))!
                message.validAttributes = attributes
                let outgoing = (try? OutgoingAttributes.prepare(message, policy: Self.policy)) ?? OutgoingAttributes()
                let slot = UnsafeMutableRawPointer.allocate(byteCount: Self.geometry.slotSize, alignment: 64)
                slot.initializeMemory(as: UInt8.self, repeating: 0, count: Self.geometry.slotSize)
                SlotRecord.write(
                    message, dataLength: message.dataLength, kind: ALPC_RECORD_REQUEST, cookie: 1,
                    clientId: ClientID(process: 1, thread: 1), messageId: 0, callbackId: 0, attributes: outgoing, to: slot)
                let length = SlotRecord.slotHeaderSize + Int(slot.load(as: UInt32.self))
                seeds.append(Array(UnsafeRawBufferPointer(start: slot, count: min(length, Self.geometry.slotSize))))
                slot.deallocate()
            }
            return seeds
        case .segmentGeometry:
            let geometry = Self.geometry
            var seed = withUnsafeBytes(of: geometry.header(serverPid: 1)) { Array($0) }
            withUnsafeBytes(of: UInt64(geometry.segmentSize).littleEndian) { seed.append(contentsOf: $0) }
            return [seed]
        }
    }
}
