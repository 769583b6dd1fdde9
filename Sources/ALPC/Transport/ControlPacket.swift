internal import CALPC
internal import CALPCSystem

/// The packets of the control plane: one per SOCK_SEQPACKET message on a connection's socket.
///
/// Every packet starts with a 32-bit kind and a reserved word, little-endian. The message bytes a
/// packet carries are a PORT_MESSAGE and its data, exactly as on the wire.
enum ControlPacket {
    /// Client to server: asks to connect.
    case connect(ConnectRequest)
    /// Server to client: accepted; the segment and doorbell descriptors travel with it, and the
    /// rules for handles on the connection (the accepted flags and the server's DupObjectTypes).
    case accept(serverPid: Int32, message: [UInt8], connectionFlags: UInt32 = 0, dupObjectTypes: UInt32 = 0)
    /// Server to client: refused, with the status the client's connect fails with.
    case refuse(status: NTStatus, message: [UInt8])
    /// Either way: the sender is closing the connection on purpose.
    case disconnect
    /// Either way: a port section's memfd travels with it, once per connection, before the
    /// first record whose view needs it; `id` is the sender's id for the section.
    case section(id: UInt64, size: UInt64)
    /// Either way: the sender deleted its section `id`; the receiver may drop it.
    case releaseSection(id: UInt64)
    /// Either way: descriptors of the next record flagged `ALPC_SLOT_FLAG_ATTACHMENT`, sent just
    /// before the record is published. An attachment with more descriptors than a packet carries
    /// is split into several packets with the same sequence number.
    case attachment(AttachmentHeader)
    /// Client to server: an eventfd travels with it, the client's doorbell, which the server
    /// rings for a record it publishes while the client asks for that (``WakeRequest/doorbell``).
    case wakeup

    /// What an attachment packet says about the descriptors that travel with it.
    struct AttachmentHeader: Equatable {
        /// The attachment's number on its connection and direction: 1, 2, 3...
        var sequence: UInt32
        /// How many descriptors of the whole attachment are handles (they come first).
        var handleCount: UInt32
        /// 1 when the last descriptor is the direct attribute's event, else 0.
        var eventCount: UInt32
        /// The index, in the whole attachment, of this packet's first descriptor.
        var firstDescriptor: UInt32

        /// The number of descriptors of the whole attachment.
        var descriptorCount: Int { Int(handleCount) + Int(eventCount) }
    }

    /// What a client sends when it connects.
    struct ConnectRequest {
        /// The client's thread id, reported in the request's ClientId.
        var threadId: Int32
        /// The connect flags (ALPC_MSGFLG_*).
        var flags: UInt32
        /// The client's port attributes.
        var attributes: ALPC_PORT_ATTRIBUTES
        /// The connection message: PORT_MESSAGE and data, or empty for none.
        var message: [UInt8]
    }

    private enum Kind: UInt32 {
        case connect = 1, accept, refuse, disconnect, section, releaseSection, attachment, wakeup
    }

    /// The largest packet: a header, a connect request and the largest message.
    static let maxSize = 16 + MemoryLayout<ALPC_PORT_ATTRIBUTES>.size + Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH) + 64

    /// The packet as bytes.
    func encoded() -> [UInt8] {
        var out = PacketWriter()
        switch self {
        case .connect(let request):
            out.append(Kind.connect.rawValue)
            out.append(UInt32(0))
            out.append(UInt32(bitPattern: request.threadId))
            out.append(request.flags)
            withUnsafeBytes(of: request.attributes) { out.bytes.append(contentsOf: $0) }
            out.append(UInt32(request.message.count))
            out.bytes.append(contentsOf: request.message)
        case .accept(let pid, let message, let connectionFlags, let dupObjectTypes):
            out.append(Kind.accept.rawValue)
            out.append(UInt32(0))
            out.append(UInt32(bitPattern: pid))
            out.append(UInt32(message.count))
            out.bytes.append(contentsOf: message)
            out.append(connectionFlags)
            out.append(dupObjectTypes)
        case .refuse(let status, let message):
            out.append(Kind.refuse.rawValue)
            out.append(UInt32(0))
            out.append(status.hexValue)
            out.append(UInt32(message.count))
            out.bytes.append(contentsOf: message)
        case .disconnect:
            out.append(Kind.disconnect.rawValue)
            out.append(UInt32(0))
        case .wakeup:
            out.append(Kind.wakeup.rawValue)
            out.append(UInt32(0))
        case .section(let id, let size):
            out.append(Kind.section.rawValue)
            out.append(UInt32(0))
            out.append(id)
            out.append(size)
        case .releaseSection(let id):
            out.append(Kind.releaseSection.rawValue)
            out.append(UInt32(0))
            out.append(id)
        case .attachment(let header):
            out.append(Kind.attachment.rawValue)
            out.append(UInt32(0))
            out.append(header.sequence)
            out.append(header.handleCount)
            out.append(header.eventCount)
            out.append(header.firstDescriptor)
        }
        return out.bytes
    }

    /// Decodes a packet, validating every length against the bytes received.
    init(decoding bytes: UnsafeRawBufferPointer) throws(NTStatus) {
        var reader = PacketReader(bytes: bytes)
        guard let kind = Kind(rawValue: try reader.read()) else { throw .invalidMessage }
        _ = try reader.read() as UInt32
        switch kind {
        case .connect:
            let tid = Int32(bitPattern: try reader.read())
            let flags: UInt32 = try reader.read()
            let attributes: ALPC_PORT_ATTRIBUTES = try reader.readStruct()
            let message = try reader.readMessage()
            self = .connect(ConnectRequest(threadId: tid, flags: flags, attributes: attributes, message: message))
        case .accept:
            let pid = Int32(bitPattern: try reader.read())
            let message = try reader.readMessage()
            let connectionFlags: UInt32 = try reader.read()
            let dupObjectTypes: UInt32 = try reader.read()
            self = .accept(
                serverPid: pid, message: message, connectionFlags: connectionFlags, dupObjectTypes: dupObjectTypes)
        case .refuse:
            let status = NTStatus(try reader.read() as UInt32)
            self = .refuse(status: status, message: try reader.readMessage())
        case .disconnect:
            self = .disconnect
        case .wakeup:
            self = .wakeup
        case .section:
            let id: UInt64 = try reader.read()
            self = .section(id: id, size: try reader.read())
        case .releaseSection:
            self = .releaseSection(id: try reader.read())
        case .attachment:
            let sequence: UInt32 = try reader.read()
            let handleCount: UInt32 = try reader.read()
            let eventCount: UInt32 = try reader.read()
            let first: UInt32 = try reader.read()
            self = .attachment(
                AttachmentHeader(sequence: sequence, handleCount: handleCount, eventCount: eventCount, firstDescriptor: first))
        }
    }

    /// The largest packet once connected (sections, releases, attachments).
    static let maxConnectedSize = 64
}

/// Appends little-endian fields to a packet.
private struct PacketWriter {
    var bytes: [UInt8] = []

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads little-endian fields from a received packet, never past its end.
private struct PacketReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func read() throws(NTStatus) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw .invalidMessage }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func read() throws(NTStatus) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw .invalidMessage }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func readStruct<T: BitwiseCopyable>() throws(NTStatus) -> T {
        guard bytes.count - offset >= MemoryLayout<T>.size else { throw .invalidMessage }
        defer { offset += MemoryLayout<T>.size }
        return bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// A length-prefixed message: empty, or a PORT_MESSAGE whose lengths agree with its bytes.
    mutating func readMessage() throws(NTStatus) -> [UInt8] {
        let count = Int(try read() as UInt32)
        guard count <= bytes.count - offset else { throw .invalidMessage }
        defer { offset += count }
        if count == 0 { return [] }
        let header = MemoryLayout<PORT_MESSAGE>.size
        guard count >= header else { throw .invalidMessage }
        let message = Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
        // DataLength is the first field of PORT_MESSAGE (u1.s1.DataLength).
        let dataLength = message.withUnsafeBytes { Int(UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self))) }
        guard header + dataLength == count else { throw .invalidMessage }
        return message
    }
}

extension ControlSocket {
    /// Sends `packet`, with `fds` attached, waiting at most `timeout` (nil: no limit) for room.
    func send(_ packet: ControlPacket, fds: [Int32] = [], timeout: Duration? = nil) throws(NTStatus) {
        let bytes = packet.encoded()
        let result: Result<Void, NTStatus> = bytes.withUnsafeBytes { raw in
            Result { () throws(NTStatus) in try send(raw, fds: fds, timeout: timeout) }
        }
        try result.get()
    }

    /// Receives and decodes one packet, waiting at most `timeout`. The descriptors that came
    /// with it belong to the caller, even when decoding fails (they are closed then).
    func receivePacket(
        maxFDs: Int = 0, timeout: Duration?, capacity: Int = ControlPacket.maxSize
    ) throws(NTStatus) -> (packet: ControlPacket, fds: [Int32]) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let received: Result<(byteCount: Int, fds: [Int32]), NTStatus> = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(NTStatus) in try receive(into: raw, maxFDs: maxFDs, timeout: timeout) }
        }
        let (count, fds) = try received.get()
        let decoded: Result<ControlPacket, NTStatus> = buffer.withUnsafeBytes { raw in
            Result { () throws(NTStatus) in try ControlPacket(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }
        switch decoded {
        case .success(let packet):
            return (packet, fds)
        case .failure(let error):
            PeerDescriptorCloser.shared.close(fds)
            throw error
        }
    }
}
