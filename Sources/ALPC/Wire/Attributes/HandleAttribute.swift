public import CALPC

/// A view of the handle attribute blob (`ALPC_HANDLE_ATTR`, 0x18 bytes).
///
/// In the direct form it carries one handle with its object type and access mask. With
/// `ALPC_HANDLEFLG_INDIRECT` in ``flags`` (see ``isIndirect``) the same bytes hold the
/// address and count of an array of `ALPC_HANDLE_ATTR32` entries instead. The view does not
/// own the blob: it is valid while the ``MessageAttributes`` it came from is alive.
public struct HandleAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the handle blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 0x18.
    @inlinable
    public static var size: Int { WireLayout.HandleAttr.size }

    /// The `ALPC_HANDLEFLG_*` flags (`Flags`).
    @inlinable
    public var flags: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.HandleAttr.flags) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.flags) }
    }

    /// Whether the blob is in the indirect form (`ALPC_HANDLEFLG_INDIRECT` in ``flags``).
    @inlinable
    public var isIndirect: Bool { flags & ALPC_HANDLEFLG_INDIRECT != 0 }

    /// The handle, in the direct form (`Handle`).
    @inlinable
    public var handle: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.HandleAttr.handle) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.handle) }
    }

    /// The address of the `ALPC_HANDLE_ATTR32` array, in the indirect form
    /// (`HandleAttrArray`); the same bytes as ``handle``.
    @inlinable
    public var handleAttrArray: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.HandleAttr.handleAttrArray) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.handleAttrArray) }
    }

    /// ``handleAttrArray`` as a pointer, `nil` when zero.
    @inlinable
    public var handleAttrArrayAddress: UnsafeMutableRawPointer? {
        get { UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: handleAttrArray)) }
        nonmutating set { handleAttrArray = UInt64(UInt(bitPattern: newValue)) }
    }

    /// The object type code of the handle, in the direct form (`ObjectType`; 1 is a file).
    @inlinable
    public var objectType: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.HandleAttr.objectType) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.objectType) }
    }

    /// The number of entries in the array, in the indirect form (`HandleCount`); the same
    /// bytes as ``objectType``.
    @inlinable
    public var handleCount: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.HandleAttr.handleCount) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.handleCount) }
    }

    /// The access the sender asks for (`DesiredAccess`); on receipt, the access granted.
    @inlinable
    public var desiredAccess: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.HandleAttr.desiredAccess) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.HandleAttr.desiredAccess) }
    }

    /// The fields, such as `{Flags 0, Handle 0x2cc, ObjectType 1, DesiredAccess 0x13019f}`,
    /// or `{Flags 0x40000, HandleAttrArray 0x..., HandleCount 2, DesiredAccess 0}` in the
    /// indirect form.
    public var description: String {
        if isIndirect {
            return FieldFormatting.record([
                "Flags": FieldFormatting.flags(flags),
                "HandleAttrArray": FieldFormatting.handle(handleAttrArray),
                "HandleCount": String(handleCount),
                "DesiredAccess": FieldFormatting.hex(desiredAccess),
            ])
        }
        return FieldFormatting.record([
            "Flags": FieldFormatting.flags(flags),
            "Handle": FieldFormatting.handle(handle),
            "ObjectType": String(objectType),
            "DesiredAccess": FieldFormatting.hex(desiredAccess),
        ])
    }
}
