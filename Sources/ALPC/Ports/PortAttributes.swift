public import CALPC

/// The attributes of a port: flags, security QoS, size limits and duplicable object types.
///
/// The defaults follow PythonForWindows: `server` for `AlpcServer` (create_port), `client` for
/// `AlpcClient` (connect_to_port) and `accept` for `AlpcServer.acceptConnection`.
/// The corresponding C struct is `ALPC_PORT_ATTRIBUTES`.
public struct PortAttributes: Sendable {
    /// The C struct, byte for byte.
    public var raw: ALPC_PORT_ATTRIBUTES

    /// Attributes from the C struct.
    public init(raw: ALPC_PORT_ATTRIBUTES) { self.raw = raw }

    /// Attributes with `flags`, a `maxMessageLength` and every other limit at 0xFFFFFFFF.
    public init(flags: UInt32, maxMessageLength: Int = 0x1000) {
        var raw = ALPC_PORT_ATTRIBUTES()
        raw.Flags = flags
        raw.MaxMessageLength = UInt64(maxMessageLength)
        raw.MemoryBandwidth = 0
        raw.MaxPoolUsage = 0xFFFF_FFFF
        raw.MaxSectionSize = 0xFFFF_FFFF
        raw.MaxViewSize = 0xFFFF_FFFF
        raw.MaxTotalSectionSize = 0xFFFF_FFFF
        raw.DupObjectTypes = 0xFFFF_FFFF
        self.raw = raw
    }

    /// The server port's defaults: no flags, 0x1000-byte messages, zeroed QoS.
    public static var server: PortAttributes { PortAttributes(flags: 0) }

    /// The client's defaults: ALPC_PORFLG_ALLOW_IMPERSONATION and an impersonation-level QoS.
    public static var client: PortAttributes {
        var attributes = PortAttributes(flags: ALPC_PORFLG_ALLOW_IMPERSONATION)
        attributes.raw.SecurityQos.Length = UInt32(MemoryLayout<SECURITY_QUALITY_OF_SERVICE>.size)
        attributes.raw.SecurityQos.ImpersonationLevel = SecurityImpersonation
        return attributes
    }

    /// The defaults for accepting a connection: ALPC_PORFLG_ALLOW_DUP_OBJECT.
    public static var accept: PortAttributes { PortAttributes(flags: ALPC_PORFLG_ALLOW_DUP_OBJECT) }

    /// ALPC_PORFLG_* bits.
    public var flags: UInt32 {
        get { raw.Flags }
        set { raw.Flags = newValue }
    }

    /// The largest message (header plus data) the port carries.
    public var maxMessageLength: Int {
        get { Int(clamping: raw.MaxMessageLength) }
        set { raw.MaxMessageLength = UInt64(max(0, newValue)) }
    }

    /// The largest section the port creates (`MaxSectionSize`); a larger one fails with
    /// `STATUS_SECTION_TOO_BIG`.
    public var maxSectionSize: UInt64 {
        get { raw.MaxSectionSize }
        set { raw.MaxSectionSize = newValue }
    }

    /// The largest view the port creates (`MaxViewSize`); a larger one fails with
    /// `STATUS_INVALID_VIEW_SIZE`.
    public var maxViewSize: UInt64 {
        get { raw.MaxViewSize }
        set { raw.MaxViewSize = newValue }
    }

    /// The most bytes all the port's sections may take together (`MaxTotalSectionSize`).
    public var maxTotalSectionSize: UInt64 {
        get { raw.MaxTotalSectionSize }
        set { raw.MaxTotalSectionSize = newValue }
    }

    /// The object types (`ALPC_PORFLG_OBJECT_TYPE_*`) the port receives as handles
    /// (`DupObjectTypes`).
    public var dupObjectTypes: UInt32 {
        get { raw.DupObjectTypes }
        set { raw.DupObjectTypes = newValue }
    }
}
