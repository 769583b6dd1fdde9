/// The size and alignment of the `PORT_MESSAGE` header that starts every message.
///
/// The layout is the Windows x64 one on every target: a message is this header followed
/// directly by its data, so data starts at ``headerSize`` bytes from the message start.
public enum PortMessageLayout {
    /// The size of the `PORT_MESSAGE` header in bytes: 0x28 (40).
    @inlinable
    public static var headerSize: Int { WireLayout.PortMessageHeader.size }

    /// The alignment, in bytes, that a buffer holding a message should have: 8.
    ///
    /// The views read and write with unaligned accesses, so this matters only for C code
    /// that reads the buffer as a `PORT_MESSAGE`.
    @inlinable
    public static var alignment: Int { WireLayout.PortMessageHeader.alignment }
}
