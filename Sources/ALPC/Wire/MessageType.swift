public import CALPC

/// The `Type` field of a message, decoded: a message kind in the low byte and flag bits in
/// the high byte.
///
/// Windows sets `Type` on delivery, so a received request reads 0x2001 (a request that
/// needs a reply) and a connection request 0x200A, or 0x300A with the reserved bit. The kind
/// is `rawValue & 0xFF` and the flags are `rawValue & 0xFF00`, as NtCoreLib masks them;
/// PythonForWindows masks with 0xFFF, which gives the same kind for every known value.
public struct MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The whole `Type` field.
    public var rawValue: UInt16

    /// Creates a decoded type from the whole `Type` field.
    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Creates a type from a kind and flag bits.
    @inlinable
    public init(
        _ kind: Kind,
        continuationRequired: Bool = false,
        noImpersonate: Bool = false,
        kernelMode: Bool = false,
        reserved: Bool = false
    ) {
        var raw = kind.rawValue & MessageType.kindMask
        if continuationRequired { raw |= UInt16(LPC_CONTINUATION_REQUIRED) }
        if noImpersonate { raw |= UInt16(LPC_NO_IMPERSONATE) }
        if kernelMode { raw |= UInt16(LPC_KERNELMODE_MESSAGE) }
        if reserved { raw |= UInt16(LPC_RESERVED_MESSAGE) }
        self.rawValue = raw
    }

    /// The bits of `Type` that hold the kind: 0x00FF.
    @inlinable
    public static var kindMask: UInt16 { 0x00FF }

    /// The bits of `Type` that hold flags: 0xFF00.
    @inlinable
    public static var flagsMask: UInt16 { 0xFF00 }

    /// The kind of message, from the low byte.
    @inlinable
    public var kind: Kind { Kind(rawValue: rawValue & MessageType.kindMask) }

    /// The flag bits, from the high byte.
    @inlinable
    public var flags: UInt16 { rawValue & MessageType.flagsMask }

    /// Whether the sender waits for a reply (`LPC_CONTINUATION_REQUIRED`, 0x2000).
    @inlinable
    public var continuationRequired: Bool { rawValue & UInt16(LPC_CONTINUATION_REQUIRED) != 0 }

    /// Whether the server may not impersonate the sender (`LPC_NO_IMPERSONATE`, 0x4000).
    @inlinable
    public var noImpersonate: Bool { rawValue & UInt16(LPC_NO_IMPERSONATE) != 0 }

    /// Whether the message came from kernel mode (`LPC_KERNELMODE_MESSAGE`, 0x8000).
    @inlinable
    public var kernelMode: Bool { rawValue & UInt16(LPC_KERNELMODE_MESSAGE) != 0 }

    /// Whether the reserved bit is set (`LPC_RESERVED_MESSAGE`, 0x1000).
    @inlinable
    public var reserved: Bool { rawValue & UInt16(LPC_RESERVED_MESSAGE) != 0 }

    /// The hex value and the names of its parts, such as
    /// `0x200a (LPC_CONNECTION_REQUEST, LPC_CONTINUATION_REQUIRED)`.
    public var description: String {
        var parts = [kind.description]
        if reserved { parts.append("LPC_RESERVED_MESSAGE") }
        if continuationRequired { parts.append("LPC_CONTINUATION_REQUIRED") }
        if noImpersonate { parts.append("LPC_NO_IMPERSONATE") }
        if kernelMode { parts.append("LPC_KERNELMODE_MESSAGE") }
        let unnamed = flags & 0x0F00
        if unnamed != 0 { parts.append(FieldFormatting.hex(unnamed)) }
        return "\(FieldFormatting.hex(rawValue)) (\(parts.joined(separator: ", ")))"
    }
}

extension MessageType {
    /// The kind of a message: the low byte of `Type` (`LPC_REQUEST`, `LPC_REPLY`, ...).
    public enum Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// A request (`LPC_REQUEST`, 1).
        case request
        /// A reply (`LPC_REPLY`, 2).
        case reply
        /// A message that needs no reply (`LPC_DATAGRAM`, 3).
        case datagram
        /// A reply whose request is gone (`LPC_LOST_REPLY`, 4).
        case lostReply
        /// The port was closed (`LPC_PORT_CLOSED`, 5).
        case portClosed
        /// The client process died (`LPC_CLIENT_DIED`, 6).
        case clientDied
        /// An exception message (`LPC_EXCEPTION`, 7).
        case exception
        /// A debug event (`LPC_DEBUG_EVENT`, 8).
        case debugEvent
        /// An error event (`LPC_ERROR_EVENT`, 9).
        case errorEvent
        /// A client asks to connect (`LPC_CONNECTION_REQUEST`, 10).
        case connectionRequest
        /// An internal connection reply (`LPC_INTERNAL_CONNECTION_REPLY`, 11).
        case internalConnectionReply
        /// A message was cancelled (`LPC_CANCEL_MESSAGE`, 12).
        case cancelMessage
        /// A legacy connection reply (`LPC_LEGACY_CONNECTION_REPLY`, 13).
        case legacyConnectionReply
        /// Any other value of the low byte.
        case unknown(UInt16)

        /// Creates a kind from the low byte of `Type`; values without a name become
        /// ``unknown(_:)``.
        @inlinable
        public init(rawValue: UInt16) {
            switch Int32(rawValue) {
            case LPC_REQUEST: self = .request
            case LPC_REPLY: self = .reply
            case LPC_DATAGRAM: self = .datagram
            case LPC_LOST_REPLY: self = .lostReply
            case LPC_PORT_CLOSED: self = .portClosed
            case LPC_CLIENT_DIED: self = .clientDied
            case LPC_EXCEPTION: self = .exception
            case LPC_DEBUG_EVENT: self = .debugEvent
            case LPC_ERROR_EVENT: self = .errorEvent
            case LPC_CONNECTION_REQUEST: self = .connectionRequest
            case LPC_INTERNAL_CONNECTION_REPLY: self = .internalConnectionReply
            case LPC_CANCEL_MESSAGE: self = .cancelMessage
            case LPC_LEGACY_CONNECTION_REPLY: self = .legacyConnectionReply
            default: self = .unknown(rawValue)
            }
        }

        /// The value of the kind in the low byte of `Type`.
        @inlinable
        public var rawValue: UInt16 {
            switch self {
            case .request: UInt16(LPC_REQUEST)
            case .reply: UInt16(LPC_REPLY)
            case .datagram: UInt16(LPC_DATAGRAM)
            case .lostReply: UInt16(LPC_LOST_REPLY)
            case .portClosed: UInt16(LPC_PORT_CLOSED)
            case .clientDied: UInt16(LPC_CLIENT_DIED)
            case .exception: UInt16(LPC_EXCEPTION)
            case .debugEvent: UInt16(LPC_DEBUG_EVENT)
            case .errorEvent: UInt16(LPC_ERROR_EVENT)
            case .connectionRequest: UInt16(LPC_CONNECTION_REQUEST)
            case .internalConnectionReply: UInt16(LPC_INTERNAL_CONNECTION_REPLY)
            case .cancelMessage: UInt16(LPC_CANCEL_MESSAGE)
            case .legacyConnectionReply: UInt16(LPC_LEGACY_CONNECTION_REPLY)
            case .unknown(let value): value
            }
        }

        /// The Windows name, such as `LPC_REQUEST`; an unknown kind prints as `LPC_TYPE_<n>`.
        public var description: String {
            switch self {
            case .request: "LPC_REQUEST"
            case .reply: "LPC_REPLY"
            case .datagram: "LPC_DATAGRAM"
            case .lostReply: "LPC_LOST_REPLY"
            case .portClosed: "LPC_PORT_CLOSED"
            case .clientDied: "LPC_CLIENT_DIED"
            case .exception: "LPC_EXCEPTION"
            case .debugEvent: "LPC_DEBUG_EVENT"
            case .errorEvent: "LPC_ERROR_EVENT"
            case .connectionRequest: "LPC_CONNECTION_REQUEST"
            case .internalConnectionReply: "LPC_INTERNAL_CONNECTION_REPLY"
            case .cancelMessage: "LPC_CANCEL_MESSAGE"
            case .legacyConnectionReply: "LPC_LEGACY_CONNECTION_REPLY"
            case .unknown(let value): "LPC_TYPE_\(value)"
            }
        }
    }
}
