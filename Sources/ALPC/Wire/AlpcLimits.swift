public import CALPC

/// The size limits of an ALPC message.
///
/// `TotalLength` is a 16-bit field, so no message, header included, can be longer than
/// 0xFFFF bytes. That this is also the limit Windows enforces
/// (`AlpcMaxAllowedMessageLength`) is still to be verified on real Windows; this is the one
/// place the library takes it from.
public enum AlpcLimits {
    /// The largest `TotalLength` a message may have, header included: 0xFFFF.
    ///
    /// The value comes from the C helper `AlpcMaxAllowedMessageLength()`.
    @inlinable
    public static var maxAllowedMessageLength: Int { Int(AlpcpMaxAllowedMessageLength()) }

    /// The most data bytes a message may carry: 0xFFFF - 0x28 = 65495.
    @inlinable
    public static var maxDataLength: Int { maxAllowedMessageLength - PortMessageLayout.headerSize }
}
