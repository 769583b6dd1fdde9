/// A view of the direct attribute blob (`ALPC_DIRECT_ATTR`, 8 bytes).
///
/// It holds an event signalled when the message is delivered. The view does not own the
/// blob: it is valid while the ``MessageAttributes`` it came from is alive.
public struct DirectAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the direct blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 8.
    @inlinable
    public static var size: Int { WireLayout.DirectAttr.size }

    /// The event handle (`Event`, also named `EventHandle`).
    @inlinable
    public var event: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.DirectAttr.event) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.DirectAttr.event) }
    }

    /// The field, such as `{Event 0x1c4}`.
    public var description: String {
        FieldFormatting.record(["Event": FieldFormatting.handle(event)])
    }
}
