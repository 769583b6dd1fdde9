public import CALPC

/// A set of message attributes, as the bits of `AllocatedAttributes` and `ValidAttributes`.
///
/// The seven attributes are listed from the highest bit down, which is also the order of
/// their blobs in an attribute buffer. Bits other than the seven are kept as given (Windows
/// keeps them in `AllocatedAttributes`) but take no space in the buffer.
public struct AttributeFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The attribute bits.
    public let rawValue: UInt32

    /// Creates a set from attribute bits.
    @inlinable
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The security attribute (`ALPC_MESSAGE_SECURITY_ATTRIBUTE`, 0x80000000).
    @inlinable
    public static var security: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_SECURITY_ATTRIBUTE) }

    /// The data view attribute (`ALPC_MESSAGE_VIEW_ATTRIBUTE`, 0x40000000).
    @inlinable
    public static var view: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_VIEW_ATTRIBUTE) }

    /// The context attribute (`ALPC_MESSAGE_CONTEXT_ATTRIBUTE`, 0x20000000).
    @inlinable
    public static var context: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_CONTEXT_ATTRIBUTE) }

    /// The handle attribute (`ALPC_MESSAGE_HANDLE_ATTRIBUTE`, 0x10000000).
    @inlinable
    public static var handle: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_HANDLE_ATTRIBUTE) }

    /// The token attribute (`ALPC_MESSAGE_TOKEN_ATTRIBUTE`, 0x08000000).
    @inlinable
    public static var token: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_TOKEN_ATTRIBUTE) }

    /// The direct attribute (`ALPC_MESSAGE_DIRECT_ATTRIBUTE`, 0x04000000).
    @inlinable
    public static var direct: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_DIRECT_ATTRIBUTE) }

    /// The work-on-behalf attribute (`ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE`, 0x02000000).
    @inlinable
    public static var workOnBehalf: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE) }

    /// All seven attributes (`ALPC_MESSAGE_ATTRIBUTE_ALL`, 0xFE000000).
    @inlinable
    public static var all: AttributeFlags { AttributeFlags(rawValue: ALPC_MESSAGE_ATTRIBUTE_ALL) }

    /// The seven attributes, one per element, in blob order (from the highest bit down).
    public static let knownAttributes: [AttributeFlags] = [
        .security, .view, .context, .handle, .token, .direct, .workOnBehalf,
    ]

    /// The Windows name of a single known attribute, such as
    /// `ALPC_MESSAGE_CONTEXT_ATTRIBUTE`, or `nil` for any other set.
    public var name: String? {
        switch self {
        case .security: "ALPC_MESSAGE_SECURITY_ATTRIBUTE"
        case .view: "ALPC_MESSAGE_VIEW_ATTRIBUTE"
        case .context: "ALPC_MESSAGE_CONTEXT_ATTRIBUTE"
        case .handle: "ALPC_MESSAGE_HANDLE_ATTRIBUTE"
        case .token: "ALPC_MESSAGE_TOKEN_ATTRIBUTE"
        case .direct: "ALPC_MESSAGE_DIRECT_ATTRIBUTE"
        case .workOnBehalf: "ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE"
        default: nil
        }
    }

    /// The set split into single bits, from the highest bit down (unknown bits included).
    public var components: [AttributeFlags] {
        var result: [AttributeFlags] = []
        var remaining = rawValue
        while remaining != 0 {
            let bit = UInt32(1) << (31 - remaining.leadingZeroBitCount)
            result.append(AttributeFlags(rawValue: bit))
            remaining &= ~bit
        }
        return result
    }

    /// The bits as a list in the style of PythonForWindows, such as
    /// `[ALPC_MESSAGE_CONTEXT_ATTRIBUTE(0x20000000)]`; unknown bits print as hex alone.
    public var description: String {
        let items = components.map { flag in
            let hex = "0x" + FieldFormatting.hex8(flag.rawValue)
            return flag.name.map { "\($0)(\(hex))" } ?? hex
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
