internal import CALPC
internal import CALPCSystem

/// Moves messages between `AlpcMessage` buffers and ring slots.
///
/// A slot holds an `ALPC_SLOT_HEADER`, then the PORT_MESSAGE and its data padded to 8 bytes, then
/// the attributes that travel. Reading trusts nothing in the slot: the headers are copied out and
/// validated against the slot's capacity before any byte is used, and the lengths written into
/// the receiver's message are the validated ones, whatever the peer does to the slot meanwhile.
enum SlotRecord {
    static let headerSize = MemoryLayout<PORT_MESSAGE>.size
    static let slotHeaderSize = MemoryLayout<ALPC_SLOT_HEADER>.size
    /// A zeroed PORT_MESSAGE: the header of a message without data or sender fields.
    nonisolated(unsafe) static let emptyHeader: UnsafeRawPointer = {
        let header = UnsafeMutableRawPointer.allocate(byteCount: headerSize, alignment: 8)
        header.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        return UnsafeRawPointer(header)
    }()

    /// The data length of an outgoing message after checking that its header is consistent and
    /// that it fits a connection carrying at most `maxMessageLength` bytes.
    @inline(__always)
    static func validateOutgoing(_ message: AlpcMessage, maxMessageLength: Int) throws(NTStatus) -> Int {
        let port = message.port
        let dataLength = Int(port.dataLength)
        guard Int(port.totalLength) == headerSize + dataLength, dataLength <= port.maxDataLength else {
            throw .invalidParameter
        }
        try validateOutgoing(dataLength: dataLength, maxMessageLength: maxMessageLength)
        return dataLength
    }

    /// Checks that `dataLength` bytes of data fit a connection carrying at most `maxMessageLength` bytes.
    static func validateOutgoing(dataLength: Int, maxMessageLength: Int) throws(NTStatus) {
        guard dataLength >= 0 else { throw .invalidParameter }
        guard dataLength <= maxMessageLength - headerSize else { throw .portMessageTooLong }
    }

    /// The bytes a record takes in its slot, slot header included.
    static func slotLength(dataLength: Int, attributeLength: Int) -> Int {
        slotHeaderSize + headerSize + ((dataLength + 7) & ~7) + attributeLength
    }

    /// Writes `message` (already validated, with `dataLength` bytes of data) into `slot`, then
    /// the attributes that travel with it; `flags` are ALPC_SLOT_FLAG_* bits.
    static func write(
        _ message: AlpcMessage, dataLength: Int, kind: UInt32, cookie: UInt32,
        clientId: ClientID, messageId: UInt32, callbackId: UInt32,
        attributes: borrowing OutgoingAttributes, flags: UInt32 = 0,
        to slot: UnsafeMutableRawPointer
    ) {
        let attributeLength = attributes.encodedLength
        let record = write(
            message, dataLength: dataLength, kind: kind, cookie: cookie, clientId: clientId, messageId: messageId,
            callbackId: callbackId, attributeLength: attributeLength, flags: flags, to: slot)
        if attributeLength > 0 {
            attributes.write(to: record + headerSize + ((dataLength + 7) & ~7))
        }
    }

    /// Writes `message` (already validated, with `dataLength` bytes of data) into `slot`, with
    /// no attributes; `flags` are ALPC_SLOT_FLAG_* bits.
    static func write(
        _ message: AlpcMessage, dataLength: Int, kind: UInt32, cookie: UInt32,
        clientId: ClientID, messageId: UInt32, callbackId: UInt32, flags: UInt32 = 0,
        to slot: UnsafeMutableRawPointer
    ) {
        write(
            message, dataLength: dataLength, kind: kind, cookie: cookie, clientId: clientId, messageId: messageId,
            callbackId: callbackId, attributeLength: 0, flags: flags, to: slot)
    }

    /// Writes the slot header and the message of a record whose attributes (`attributeLength`
    /// bytes) the caller writes after it; returns where its PORT_MESSAGE starts.
    @discardableResult
    private static func write(
        _ message: AlpcMessage, dataLength: Int, kind: UInt32, cookie: UInt32, clientId: ClientID,
        messageId: UInt32, callbackId: UInt32, attributeLength: Int, flags: UInt32, to slot: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        let record = writeSlotHeader(
            dataLength: dataLength, kind: kind, cookie: cookie, attributeLength: attributeLength, flags: flags, to: slot)
        record.copyMemory(from: message.port.start, byteCount: headerSize + dataLength)
        stamp(record, dataLength: dataLength, clientId: clientId, messageId: messageId, callbackId: callbackId)
        return record
    }

    /// Writes a record of `dataLength` bytes of data, without attributes, into `slot`: `fill`
    /// writes the data in place, then the headers are written. When `fill` throws, the slot
    /// holds nothing meaningful (it must not be published) and the error is rethrown.
    static func write(
        dataLength: Int, kind: UInt32, cookie: UInt32, clientId: ClientID, messageId: UInt32, callbackId: UInt32,
        to slot: UnsafeMutableRawPointer, fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let record = slot + slotHeaderSize
        // The closure sees the data area only: it cannot reach the headers written after it.
        try fill(UnsafeMutableRawBufferPointer(start: record + headerSize, count: dataLength))
        _ = writeSlotHeader(dataLength: dataLength, kind: kind, cookie: cookie, attributeLength: 0, flags: 0, to: slot)
        record.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        stamp(record, dataLength: dataLength, clientId: clientId, messageId: messageId, callbackId: callbackId)
    }

    /// Writes the `ALPC_SLOT_HEADER` of a record; returns where its PORT_MESSAGE starts.
    private static func writeSlotHeader(
        dataLength: Int, kind: UInt32, cookie: UInt32, attributeLength: Int, flags: UInt32,
        to slot: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        // (Every length here was validated against the connection's maximum, 16 bits, and the
        // kind and flags are the ALPC_RECORD_* and ALPC_SLOT_FLAG_* constants: nothing truncates.)
        var header = ALPC_SLOT_HEADER()
        header.RecordLength = UInt32(truncatingIfNeeded: headerSize + ((dataLength + 7) & ~7) + attributeLength)
        header.Kind = UInt16(truncatingIfNeeded: kind)
        header.Flags = UInt16(truncatingIfNeeded: flags)
        header.Cookie = cookie
        header.AttributeLength = UInt32(truncatingIfNeeded: attributeLength)
        slot.storeBytes(of: header, as: ALPC_SLOT_HEADER.self)
        return slot + slotHeaderSize
    }

    /// Sets the sender's fields of the PORT_MESSAGE at `record`: its lengths and identities.
    private static func stamp(
        _ record: UnsafeMutableRawPointer, dataLength: Int, clientId: ClientID, messageId: UInt32, callbackId: UInt32
    ) {
        let view = PortMessage(unsafeStart: record, capacity: headerSize + dataLength)
        // (Validated: the total fits 16 bits.)
        view.dataLength = UInt16(truncatingIfNeeded: dataLength)
        view.totalLength = UInt16(truncatingIfNeeded: headerSize + dataLength)
        view.clientId = clientId
        view.messageId = messageId
        view.callbackId = callbackId
    }

    /// A validated description of the record in a slot.
    struct Inbound {
        /// ALPC_RECORD_*.
        let kind: UInt32
        /// The cookie pairing a reply with its request.
        let cookie: UInt32
        /// The number of data bytes after the PORT_MESSAGE.
        let dataLength: Int
        /// The slot holding it.
        let slot: UnsafeMutableRawPointer
        /// ALPC_SLOT_FLAG_* bits.
        let flags: UInt32
        /// The number of attribute bytes after the padded data.
        let attributeLength: Int

        /// Whether an attachment packet precedes the record on the control socket.
        var hasAttachment: Bool { flags & ALPC_SLOT_FLAG_ATTACHMENT != 0 }

        /// The start of the record's attributes in the slot.
        var attributeArea: UnsafeRawPointer {
            UnsafeRawPointer(slot + SlotRecord.slotHeaderSize + SlotRecord.headerSize + ((dataLength + 7) & ~7))
        }

        /// The bytes a receive buffer needs: the header and the data.
        var totalLength: Int { SlotRecord.headerSize + dataLength }
    }

    /// Validates the record in `slot`, which holds at most `maxRecordLength` bytes after its header.
    @inline(__always)
    static func inspect(_ slot: UnsafeMutableRawPointer, maxRecordLength: Int, maxMessageLength: Int) throws(NTStatus) -> Inbound {
        let header = slot.loadUnaligned(as: ALPC_SLOT_HEADER.self)
        let recordLength = Int(header.RecordLength)
        let kind = UInt32(header.Kind)
        guard recordLength >= headerSize, recordLength <= maxRecordLength,
            kind >= ALPC_RECORD_REQUEST, kind <= ALPC_RECORD_REPLY
        else { throw .invalidMessage }
        let port = PortMessage(unsafeStart: slot + slotHeaderSize, capacity: recordLength)
        let dataLength = Int(port.dataLength)
        let attributeLength = Int(header.AttributeLength)
        guard attributeLength <= SegmentGeometry.attributeReserve,
            headerSize + ((dataLength + 7) & ~7) + attributeLength <= recordLength,
            headerSize + dataLength <= maxMessageLength,
            UInt32(header.Flags) & ~ALPC_SLOT_FLAG_ATTACHMENT == 0
        else { throw .invalidMessage }
        return Inbound(
            kind: kind, cookie: header.Cookie, dataLength: dataLength, slot: slot,
            flags: UInt32(header.Flags), attributeLength: attributeLength)
    }

    /// Copies the header and the `dataLength` (validated) bytes of data at `source` into
    /// `message`; false when its buffer is too small: nothing is copied, and the message's
    /// header lengths are set to the record's (so `totalLength` is the size needed). The
    /// lengths written are the validated ones, whatever the source's header says.
    static func copy(from source: UnsafeRawPointer, dataLength: Int, into message: AlpcMessage) -> Bool {
        let port = message.port
        let totalLength = headerSize + dataLength
        guard totalLength <= port.capacity else {
            port.dataLength = UInt16(truncatingIfNeeded: dataLength)
            port.totalLength = UInt16(truncatingIfNeeded: totalLength)
            return false
        }
        port.start.copyMemory(from: source, byteCount: totalLength)
        // The peer may have changed the slot since inspection: the validated lengths win.
        port.dataLength = UInt16(truncatingIfNeeded: dataLength)
        port.totalLength = UInt16(truncatingIfNeeded: totalLength)
        port.dataInfoOffset = 0
        return true
    }

    /// Copies the record's header and data into a new array (for a message parked for another thread).
    static func bytes(of record: Inbound) -> [UInt8] {
        var bytes = [UInt8](UnsafeRawBufferPointer(start: record.slot + slotHeaderSize, count: record.totalLength))
        bytes.withUnsafeMutableBytes { raw in
            let port = PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count)
            port.dataLength = UInt16(truncatingIfNeeded: record.dataLength)
            port.totalLength = UInt16(truncatingIfNeeded: record.totalLength)
            port.dataInfoOffset = 0
        }
        return bytes
    }

    /// Copies a parked message into `message`, or sets the needed lengths and throws `.bufferTooSmall`.
    static func copy(parked bytes: [UInt8], into message: AlpcMessage) throws(NTStatus) {
        let port = message.port
        guard bytes.count <= port.capacity else {
            port.dataLength = UInt16(truncatingIfNeeded: bytes.count - headerSize)
            port.totalLength = UInt16(truncatingIfNeeded: bytes.count)
            throw .bufferTooSmall
        }
        bytes.withUnsafeBytes { port.start.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }
}
