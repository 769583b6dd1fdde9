internal import CALPC
internal import CALPCSystem

/// The shape of a connection segment: how many slots each ring has, how big a slot is, and the
/// largest message it carries.
///
/// The server chooses a geometry when it accepts a connection; the client validates the one it
/// finds in the segment header and keeps this private copy, never re-reading the shared header.
struct SegmentGeometry: Sendable, Equatable {
    /// Bytes per slot: a slot header, a PORT_MESSAGE with its data, and the attribute reserve.
    let slotSize: Int
    /// Slots per ring; a power of two.
    let slotCount: Int
    /// The largest TotalLength (header plus data) a message on this connection may have.
    let maxMessageLength: Int

    /// Slots per ring the library uses.
    static let defaultSlotCount = 64
    /// The most slots per ring a peer may declare.
    static let maxSlotCount = 1024
    /// Bytes reserved in each slot for attributes that travel with a message.
    static let attributeReserve = 512
    /// The size of the slot header that precedes each PORT_MESSAGE.
    static let slotHeaderSize = MemoryLayout<ALPC_SLOT_HEADER>.size

    /// The geometry for messages of at most `maxMessageLength` bytes, header included.
    init(maxMessageLength: Int, slotCount: Int = SegmentGeometry.defaultSlotCount) {
        self.maxMessageLength = maxMessageLength
        self.slotCount = slotCount
        let raw = Self.slotHeaderSize + maxMessageLength + 8 + Self.attributeReserve
        self.slotSize = (raw + 63) & ~63
    }

    /// Validates a geometry read from a peer's segment header against the segment's real size.
    init(validating header: ALPC_SEGMENT_HEADER, fileSize: Int) throws(NTStatus) {
        let slotSize = Int(header.SlotSize)
        let slotCount = Int(header.SlotCount)
        let maxMessageLength = Int(header.MaxMessageLength)
        guard header.Magic == ALPC_SEGMENT_MAGIC, header.Version == ALPC_SEGMENT_VERSION,
            header.SlotsOffset == ALPC_SEGMENT_SLOTS_OFFSET,
            slotCount > 0, slotCount <= Self.maxSlotCount, slotCount & (slotCount - 1) == 0,
            maxMessageLength >= MemoryLayout<PORT_MESSAGE>.size,
            maxMessageLength <= Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH),
            slotSize % 64 == 0,
            slotSize >= Self.slotHeaderSize + maxMessageLength + 8,
            slotSize <= 1 << 20
        else { throw .invalidPortAttributes }
        self.slotSize = slotSize
        self.slotCount = slotCount
        self.maxMessageLength = maxMessageLength
        guard UInt64(segmentSize) == header.SegmentSize, segmentSize <= fileSize else {
            throw .invalidPortAttributes
        }
    }

    /// The segment header a server writes for this geometry (ClosedFlags clear).
    func header(serverPid: Int32) -> ALPC_SEGMENT_HEADER {
        var header = ALPC_SEGMENT_HEADER()
        header.Magic = ALPC_SEGMENT_MAGIC
        header.Version = ALPC_SEGMENT_VERSION
        header.SlotSize = UInt32(slotSize)
        header.SlotCount = UInt32(slotCount)
        header.MaxMessageLength = UInt32(maxMessageLength)
        header.ServerPid = UInt32(bitPattern: serverPid)
        header.SegmentSize = UInt64(segmentSize)
        header.SlotsOffset = ALPC_SEGMENT_SLOTS_OFFSET
        return header
    }

    /// The bytes of the whole segment: header, two ring controls, two rings of slots.
    var segmentSize: Int {
        Int(ALPC_SEGMENT_SLOTS_OFFSET) + 2 * slotCount * slotSize
    }

    /// The most bytes a record may take after its slot header. (Both initializers make a slot
    /// hold more than its header: nothing here can overflow.)
    var maxRecordLength: Int { slotSize &- Self.slotHeaderSize }
}
