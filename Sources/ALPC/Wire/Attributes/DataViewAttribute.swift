/// A view of the data view attribute blob (`ALPC_DATA_VIEW_ATTR`, 0x20 bytes).
///
/// It describes a view of a port section that travels with a message; on receipt,
/// `ViewBase` is the view's address in the receiver. The view does not own the blob: it is
/// valid while the ``MessageAttributes`` it came from is alive.
public struct DataViewAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the data view blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 0x20.
    @inlinable
    public static var size: Int { WireLayout.DataViewAttr.size }

    /// The `ALPC_VIEWFLG_*` flags (`Flags`).
    @inlinable
    public var flags: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.DataViewAttr.flags) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.DataViewAttr.flags) }
    }

    /// The handle of the port section (`SectionHandle`).
    @inlinable
    public var sectionHandle: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.DataViewAttr.sectionHandle) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.DataViewAttr.sectionHandle) }
    }

    /// The address of the view (`ViewBase`), as a 64-bit value.
    @inlinable
    public var viewBase: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.DataViewAttr.viewBase) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.DataViewAttr.viewBase) }
    }

    /// ``viewBase`` as a pointer, `nil` when zero.
    @inlinable
    public var viewBaseAddress: UnsafeMutableRawPointer? {
        get { UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: viewBase)) }
        nonmutating set { viewBase = UInt64(UInt(bitPattern: newValue)) }
    }

    /// The size of the view in bytes (`ViewSize`).
    @inlinable
    public var viewSize: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.DataViewAttr.viewSize) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.DataViewAttr.viewSize) }
    }

    /// The fields, such as `{Flags 0, SectionHandle None, ViewBase 0x4780000, ViewSize 0x4000}`.
    public var description: String {
        FieldFormatting.record([
            "Flags": FieldFormatting.flags(flags),
            "SectionHandle": FieldFormatting.handle(sectionHandle),
            "ViewBase": FieldFormatting.handle(viewBase),
            "ViewSize": FieldFormatting.hex(viewSize),
        ])
    }
}
