public import CALPC

/// An attribute buffer: the `ALPC_MESSAGE_ATTRIBUTES` header followed by one blob per
/// allocated attribute.
///
/// The buffer is allocated once, 8-byte aligned and zeroed, and freed with the object. Its
/// size and header come from the C helpers `AlpcInitializeMessageAttribute` and blob
/// addresses from `AlpcGetMessageAttribute` (their inline `Alpcp` twins, which the exported
/// functions call), so Swift and C agree on the layout by construction: blobs follow the
/// 8-byte header in descending flag-bit order, only the allocated ones, with no padding (all
/// seven take 0xA0 bytes).
///
/// ``allocated`` says which blobs exist and never changes; ``valid`` says which of them
/// carry data in this message. A typed view such as ``context`` is `nil` when its blob is
/// not allocated, whether or not it is valid.
///
/// Names follow PythonForWindows' `MessageAttribute`: `with_attributes` is ``with(_:)``,
/// `with_all_attributes` is ``withAllAttributes()``, `is_allocated` and `is_valid` are
/// ``isAllocated(_:)`` and ``isValid(_:)``, and `get_attribute` is ``rawBlob(_:)``.
public final class MessageAttributes {
    /// The start of the buffer, bound to its header.
    @usableFromInline
    let header: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>

    /// The size of the buffer in bytes: 8 plus the size of each allocated blob.
    public let bufferSize: Int

    /// False when the buffer belongs to the caller (``init(unsafeBuffer:)``).
    private let ownsBuffer: Bool

    /// Creates a zeroed buffer with a blob for each attribute in `flags`, and ``valid`` empty.
    ///
    /// Bits other than the seven attributes are kept in ``allocated`` but take no space.
    public init(flags: AttributeFlags) {
        var required: SIZE_T = 0
        _ = AlpcpInitializeMessageAttribute(flags.rawValue, nil, 0, &required)
        let size = Int(required)
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: size,
            alignment: WireLayout.MessageAttributesHeader.alignment
        )
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        let header = raw.bindMemory(to: ALPC_MESSAGE_ATTRIBUTES.self, capacity: 1)
        let status = AlpcpInitializeMessageAttribute(flags.rawValue, header, required, &required)
        precondition(status == STATUS_SUCCESS, "AlpcInitializeMessageAttribute failed on its own size")
        self.header = header
        self.bufferSize = size
        self.ownsBuffer = true
    }

    /// Views an attribute buffer that the caller owns (a C program's
    /// `ALPC_MESSAGE_ATTRIBUTES`), as it is: its `AllocatedAttributes` say which blobs follow.
    ///
    /// - Warning: The buffer must hold `AlpcGetHeaderSize(AllocatedAttributes)` bytes and stay
    ///   valid while this object is alive; it is neither copied nor freed.
    public init(unsafeBuffer: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>) {
        self.header = unsafeBuffer
        self.bufferSize = Int(AlpcpGetHeaderSize(unsafeBuffer.pointee.AllocatedAttributes))
        self.ownsBuffer = false
    }

    deinit {
        if ownsBuffer { UnsafeMutableRawPointer(header).deallocate() }
    }

    /// Creates a buffer with a blob for each attribute in `flags`.
    public static func with(_ flags: AttributeFlags) -> MessageAttributes {
        MessageAttributes(flags: flags)
    }

    /// Creates a buffer with a blob for each of the seven attributes (0xA0 bytes), which is
    /// what every ``AlpcMessage`` gets by default.
    public static func withAllAttributes() -> MessageAttributes {
        MessageAttributes(flags: .all)
    }

    /// The start of the buffer, for handing to the transport or to C.
    ///
    /// - Warning: The pointer is valid only while this object is alive.
    @inlinable
    public var unsafeRawPointer: UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(header)
    }

    /// Calls `body` with the whole buffer, header and blobs.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable
    public func withUnsafeMutableRawBuffer<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withExtendedLifetime(self) { () throws(Failure) -> Result in
            try body(UnsafeMutableRawBufferPointer(start: unsafeRawPointer, count: bufferSize))
        }
    }

    /// The attributes that have a blob in the buffer (`AllocatedAttributes`).
    @inlinable
    public var allocated: AttributeFlags {
        AttributeFlags(
            rawValue: unsafeRawPointer.loadWire(UInt32.self, at: WireLayout.MessageAttributesHeader.allocatedAttributes)
        )
    }

    /// The attributes whose blob carries data in this message (`ValidAttributes`).
    ///
    /// A sender sets the bits of the blobs it filled in; a receive sets the bits of the
    /// attributes delivered.
    @inlinable
    public var valid: AttributeFlags {
        get {
            AttributeFlags(
                rawValue: unsafeRawPointer.loadWire(UInt32.self, at: WireLayout.MessageAttributesHeader.validAttributes)
            )
        }
        set {
            unsafeRawPointer.storeWire(newValue.rawValue, at: WireLayout.MessageAttributesHeader.validAttributes)
        }
    }

    /// Whether every attribute in `flags` has a blob in the buffer.
    @inlinable
    public func isAllocated(_ flags: AttributeFlags) -> Bool {
        allocated.isSuperset(of: flags)
    }

    /// Whether every attribute in `flags` is marked valid.
    @inlinable
    public func isValid(_ flags: AttributeFlags) -> Bool {
        valid.isSuperset(of: flags)
    }

    /// Marks the attributes in `flags` valid or not valid, leaving the others as they are.
    @inlinable
    public func setValid(_ flags: AttributeFlags, _ isValid: Bool) {
        if isValid {
            valid.formUnion(flags)
        } else {
            valid.subtract(flags)
        }
    }

    /// The address of the blob of the single attribute `flag`, or `nil` when `flag` is not
    /// exactly one of the seven attributes or has no blob in this buffer.
    ///
    /// The address comes from `AlpcGetMessageAttribute`, and is checked to lie inside the
    /// buffer. Validity is not consulted.
    ///
    /// - Warning: The pointer is valid only while this object is alive.
    @inlinable @inline(__always)
    public func rawBlob(_ flag: AttributeFlags) -> UnsafeMutableRawPointer? {
        guard let blob = AlpcpGetMessageAttribute(header, flag.rawValue) else { return nil }
        // The allocated bits live in the buffer; never hand out a blob that would not fit it.
        let offset = unsafeRawPointer.distance(to: blob)
        let blobSize = Int(AlpcpGetHeaderSize(flag.rawValue)) &- WireLayout.MessageAttributesHeader.size
        guard offset &+ blobSize <= bufferSize else { return nil }
        return blob
    }

    /// The security attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var security: SecurityAttribute? {
        rawBlob(.security).map { SecurityAttribute(unsafeStart: $0) }
    }

    /// The data view attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var view: DataViewAttribute? {
        rawBlob(.view).map { DataViewAttribute(unsafeStart: $0) }
    }

    /// The context attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var context: ContextAttribute? {
        rawBlob(.context).map { ContextAttribute(unsafeStart: $0) }
    }

    /// The handle attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var handle: HandleAttribute? {
        rawBlob(.handle).map { HandleAttribute(unsafeStart: $0) }
    }

    /// The token attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var token: TokenAttribute? {
        rawBlob(.token).map { TokenAttribute(unsafeStart: $0) }
    }

    /// The direct attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var direct: DirectAttribute? {
        rawBlob(.direct).map { DirectAttribute(unsafeStart: $0) }
    }

    /// The work-on-behalf attribute's blob, or `nil` when it is not allocated.
    @inlinable
    public var workOnBehalf: WorkOnBehalfAttribute? {
        rawBlob(.workOnBehalf).map { WorkOnBehalfAttribute(unsafeStart: $0) }
    }
}
