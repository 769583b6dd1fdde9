/// A view of the work-on-behalf attribute blob (`ALPC_WORK_ON_BEHALF_ATTR`, 8 bytes).
///
/// It holds an opaque ticket that travels unchanged; Windows splits it into a thread id and
/// the low half of that thread's creation time. The view does not own the blob: it is valid
/// while the ``MessageAttributes`` it came from is alive.
public struct WorkOnBehalfAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the work-on-behalf blob at `unsafeStart`, which must hold ``size``
    /// bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 8.
    @inlinable
    public static var size: Int { WireLayout.WorkOnBehalfAttr.size }

    /// The whole ticket (`Ticket`).
    @inlinable
    public var ticket: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.WorkOnBehalfAttr.ticket) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.WorkOnBehalfAttr.ticket) }
    }

    /// The low half of the ticket (`ThreadId`).
    @inlinable
    public var threadId: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.WorkOnBehalfAttr.threadId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.WorkOnBehalfAttr.threadId) }
    }

    /// The high half of the ticket (`ThreadCreationTimeLow`).
    @inlinable
    public var threadCreationTimeLow: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.WorkOnBehalfAttr.threadCreationTimeLow) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.WorkOnBehalfAttr.threadCreationTimeLow) }
    }

    /// The field, such as `{Ticket 0x1d0000259c}`.
    public var description: String {
        FieldFormatting.record(["Ticket": FieldFormatting.hex(ticket)])
    }
}
