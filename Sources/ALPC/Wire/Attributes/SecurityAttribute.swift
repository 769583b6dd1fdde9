/// A view of the security attribute blob (`ALPC_SECURITY_ATTR`, 0x18 bytes).
///
/// It carries a security quality of service and a security-context handle. The view does
/// not own the blob: it is valid while the ``MessageAttributes`` it came from is alive.
public struct SecurityAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the security blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 0x18.
    @inlinable
    public static var size: Int { WireLayout.SecurityAttr.size }

    /// The `ALPC_SECFLG_*` flags (`Flags`).
    @inlinable
    public var flags: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.SecurityAttr.flags) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.SecurityAttr.flags) }
    }

    /// The address of a `SECURITY_QUALITY_OF_SERVICE` (`QoS`), as a 64-bit value.
    @inlinable
    public var qos: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.SecurityAttr.qos) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.SecurityAttr.qos) }
    }

    /// ``qos`` as a pointer, `nil` when zero.
    @inlinable
    public var qosAddress: UnsafeMutableRawPointer? {
        get { UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: qos)) }
        nonmutating set { qos = UInt64(UInt(bitPattern: newValue)) }
    }

    /// The security-context handle (`ContextHandle`).
    @inlinable
    public var contextHandle: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.SecurityAttr.contextHandle) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.SecurityAttr.contextHandle) }
    }

    /// The fields, such as `{Flags 0, QoS 0x7ffd1000, ContextHandle None}`.
    public var description: String {
        FieldFormatting.record([
            "Flags": FieldFormatting.flags(flags),
            "QoS": FieldFormatting.handle(qos),
            "ContextHandle": FieldFormatting.handle(contextHandle),
        ])
    }
}
