/// A view of an ALPC message in memory: the `PORT_MESSAGE` header, then the data.
///
/// `PortMessage` neither owns nor copies the memory it views: a heap buffer, a slot in a
/// shared segment, anything at least ``PortMessageLayout/headerSize`` bytes long. It reads
/// and writes the Windows x64 layout, little-endian, with unaligned accesses, so the start
/// may be at any address. Setters write to that memory, which is why they work on a `let`
/// view and on a view returned by a computed property.
///
/// ```
///  start                  +0x28                               start + capacity
///  | PORT_MESSAGE header  | data (DataLength bytes) | unused    |
///  |<------ 0x28 -------->|<------------- maxDataLength ------->|
/// ```
///
/// The header is not trusted: ``data`` never covers more than the memory viewed, whatever
/// `DataLength` claims.
///
/// - Warning: The view is valid only while the memory it views is. Do not keep it beyond
///   the lifetime of its owner (an ``AlpcMessage`` or a mapped segment).
public struct PortMessage {
    /// The address of the first byte of the header.
    public let start: UnsafeMutableRawPointer

    /// The number of bytes viewed, header included.
    public let capacity: Int

    /// Creates a view of the message that starts at `unsafeStart` and may use `capacity`
    /// bytes, header included.
    ///
    /// - Precondition: `capacity` is at least ``PortMessageLayout/headerSize`` (0x28).
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer, capacity: Int) {
        precondition(
            capacity >= WireLayout.PortMessageHeader.size,
            "a PORT_MESSAGE needs at least 0x28 bytes"
        )
        self.start = unsafeStart
        self.capacity = capacity
    }

    // MARK: Header fields

    /// The number of data bytes after the header (`u1.s1.DataLength`).
    ///
    /// Setting it writes only this field; ``setDataLength(_:)`` also sets ``totalLength``
    /// and checks the size.
    @inlinable
    public var dataLength: UInt16 {
        get { start.loadWire(UInt16.self, at: WireLayout.PortMessageHeader.dataLength) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.dataLength) }
    }

    /// The header size plus the data length (`u1.s1.TotalLength`).
    @inlinable
    public var totalLength: UInt16 {
        get { start.loadWire(UInt16.self, at: WireLayout.PortMessageHeader.totalLength) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.totalLength) }
    }

    /// DataLength and TotalLength as one 32-bit value (`u1.Length`): DataLength in the low half.
    @inlinable
    public var length: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.PortMessageHeader.length) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.length) }
    }

    /// The whole message type (`u2.s2.Type`): the kind in the low byte, flags above.
    @inlinable
    public var type: UInt16 {
        get { start.loadWire(UInt16.self, at: WireLayout.PortMessageHeader.type) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.type) }
    }

    /// The message type, decoded.
    @inlinable
    public var messageType: MessageType {
        get { MessageType(rawValue: type) }
        nonmutating set { type = newValue.rawValue }
    }

    /// The legacy LPC offset of a data-information table (`u2.s2.DataInfoOffset`); 0 in ALPC.
    @inlinable
    public var dataInfoOffset: UInt16 {
        get { start.loadWire(UInt16.self, at: WireLayout.PortMessageHeader.dataInfoOffset) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.dataInfoOffset) }
    }

    /// Type and DataInfoOffset as one 32-bit value (`u2.ZeroInit`): Type in the low half.
    @inlinable
    public var zeroInit: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.PortMessageHeader.zeroInit) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.zeroInit) }
    }

    /// The sender's process and thread ids (`ClientId`); zero in a new message.
    @inlinable
    public var clientId: ClientID {
        get {
            ClientID(
                process: start.loadWire(UInt64.self, at: WireLayout.PortMessageHeader.clientIdProcess),
                thread: start.loadWire(UInt64.self, at: WireLayout.PortMessageHeader.clientIdThread)
            )
        }
        nonmutating set {
            start.storeWire(newValue.process, at: WireLayout.PortMessageHeader.clientIdProcess)
            start.storeWire(newValue.thread, at: WireLayout.PortMessageHeader.clientIdThread)
        }
    }

    /// The message id (`MessageId`): zero in a new message, the request's id in a reply.
    @inlinable
    public var messageId: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.PortMessageHeader.messageId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.messageId) }
    }

    /// The callback id (`CallbackId`), which shares its bytes with ``clientViewSize``.
    @inlinable
    public var callbackId: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.PortMessageHeader.callbackId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.callbackId) }
    }

    /// The client's view size on a legacy connection request (`ClientViewSize`), which
    /// shares its low bytes with ``callbackId``.
    @inlinable
    public var clientViewSize: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.PortMessageHeader.clientViewSize) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.PortMessageHeader.clientViewSize) }
    }

    // MARK: Data

    /// The most data bytes this view can carry: the bytes after the header, and never more
    /// than ``AlpcLimits/maxDataLength`` (65495).
    @inlinable
    public var maxDataLength: Int {
        Swift.min(capacity &- WireLayout.PortMessageHeader.size, AlpcLimits.maxDataLength)
    }

    /// The data: `DataLength` bytes after the header, cut to ``maxDataLength`` if the header
    /// claims more than the memory viewed.
    @inlinable
    public var data: UnsafeMutableRawBufferPointer {
        let count = Swift.min(Int(dataLength), maxDataLength)
        return UnsafeMutableRawBufferPointer(
            start: start + WireLayout.PortMessageHeader.size,
            count: count
        )
    }

    /// Calls `body` with the data bytes (see ``data``).
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable
    public func withData<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(data))
    }

    /// Copies `bytes` after the header and sets DataLength to their count and TotalLength to
    /// 0x28 more.
    ///
    /// The bytes may overlap the data of this message.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than ``maxDataLength``
    ///   bytes; the message is then left unchanged.
    @inlinable
    public func setData(_ bytes: UnsafeRawBufferPointer) throws(NTStatus) {
        guard _setDataIfItFits(bytes) else { throw .bufferTooSmall }
    }

    /// Copies `bytes` after the header and sets DataLength to their count and TotalLength to
    /// 0x28 more.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than ``maxDataLength``
    ///   bytes; the message is then left unchanged.
    @inlinable
    public func setData<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(NTStatus) {
        if let fitted = bytes.withContiguousStorageIfAvailable({ _setDataIfItFits(UnsafeRawBufferPointer($0)) }) {
            guard fitted else { throw .bufferTooSmall }
            return
        }
        // No contiguous storage: stage the bytes first, stopping as soon as they are too many,
        // so that a failure leaves the message unchanged.
        let limit = maxDataLength
        var staged: [UInt8] = []
        staged.reserveCapacity(Swift.min(bytes.underestimatedCount, limit))
        for byte in bytes {
            guard staged.count < limit else { throw .bufferTooSmall }
            staged.append(byte)
        }
        let fitted = staged.withUnsafeBytes { _setDataIfItFits($0) }
        assert(fitted)
    }

    /// Sets DataLength to `count` and TotalLength to 0x28 more, leaving the bytes as they are.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when `count` is above ``maxDataLength``, and
    ///   ``NTStatus/invalidParameter`` when it is negative; the message is then left unchanged.
    @inlinable
    public func setDataLength(_ count: Int) throws(NTStatus) {
        guard count >= 0 else { throw .invalidParameter }
        guard count <= maxDataLength else { throw .bufferTooSmall }
        _storeLengths(count)
    }

    /// Copies `bytes` after the header and sets both lengths, or returns false and changes
    /// nothing when they do not fit.
    @inlinable
    func _setDataIfItFits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        guard count <= maxDataLength else { return false }
        if let source = bytes.baseAddress, count > 0 {
            // copyMemory allows overlapping regions (memmove).
            (start + WireLayout.PortMessageHeader.size).copyMemory(from: source, byteCount: count)
        }
        _storeLengths(count)
        return true
    }

    /// Stores DataLength = count and TotalLength = 0x28 + count; count is already checked.
    @inlinable
    func _storeLengths(_ count: Int) {
        dataLength = UInt16(truncatingIfNeeded: count)
        totalLength = UInt16(truncatingIfNeeded: count &+ WireLayout.PortMessageHeader.size)
    }
}
