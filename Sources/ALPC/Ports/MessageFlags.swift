internal import CALPC

/// Flags of a send or connect: the `ALPC_MSGFLG_*` bits.
public struct MessageFlags: OptionSet, Sendable, Hashable {
    /// The flag bits.
    public var rawValue: UInt32

    /// Flags from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A reply. The corresponding C flag is `ALPC_MSGFLG_REPLY_MESSAGE`.
    public static let replyMessage = MessageFlags(rawValue: ALPC_MSGFLG_REPLY_MESSAGE)
    /// Legacy LPC mode. The corresponding C flag is `ALPC_MSGFLG_LPC_MODE`.
    public static let lpcMode = MessageFlags(rawValue: ALPC_MSGFLG_LPC_MODE)
    /// A datagram: no reply is expected. The corresponding C flag is `ALPC_MSGFLG_RELEASE_MESSAGE`.
    public static let releaseMessage = MessageFlags(rawValue: ALPC_MSGFLG_RELEASE_MESSAGE)
    /// Wait for the reply. The corresponding C flag is `ALPC_MSGFLG_SYNC_REQUEST`.
    public static let syncRequest = MessageFlags(rawValue: ALPC_MSGFLG_SYNC_REQUEST)
    /// The corresponding C flag is `ALPC_MSGFLG_TRACK_PORT_REFERENCES`.
    public static let trackPortReferences = MessageFlags(rawValue: ALPC_MSGFLG_TRACK_PORT_REFERENCES)
    /// The corresponding C flag is `ALPC_MSGFLG_WAIT_USER_MODE`.
    public static let waitUserMode = MessageFlags(rawValue: ALPC_MSGFLG_WAIT_USER_MODE)
    /// The corresponding C flag is `ALPC_MSGFLG_WAIT_ALERTABLE`.
    public static let waitAlertable = MessageFlags(rawValue: ALPC_MSGFLG_WAIT_ALERTABLE)
}
