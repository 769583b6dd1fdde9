/// A view of the context attribute blob (`ALPC_CONTEXT_ATTR`, 0x20 bytes).
///
/// On receipt it holds the port context given when the connection was accepted, and the
/// message's sequence number and ids. The view does not own the blob: it is valid while the
/// ``MessageAttributes`` it came from is alive.
public struct ContextAttribute: CustomStringConvertible {
    /// The address of the blob.
    public let start: UnsafeMutableRawPointer

    /// Creates a view of the context blob at `unsafeStart`, which must hold ``size`` bytes.
    @inlinable
    public init(unsafeStart: UnsafeMutableRawPointer) {
        self.start = unsafeStart
    }

    /// The size of the blob in bytes: 0x20.
    @inlinable
    public static var size: Int { WireLayout.ContextAttr.size }

    /// The connection's context value, given when the server accepted it (`PortContext`).
    @inlinable
    public var portContext: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.ContextAttr.portContext) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.ContextAttr.portContext) }
    }

    /// The message's context value (`MessageContext`).
    @inlinable
    public var messageContext: UInt64 {
        get { start.loadWire(UInt64.self, at: WireLayout.ContextAttr.messageContext) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.ContextAttr.messageContext) }
    }

    /// The message's sequence number on its connection (`Sequence`).
    @inlinable
    public var sequence: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.ContextAttr.sequence) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.ContextAttr.sequence) }
    }

    /// The message id (`MessageId`).
    @inlinable
    public var messageId: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.ContextAttr.messageId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.ContextAttr.messageId) }
    }

    /// The callback id (`CallbackId`).
    @inlinable
    public var callbackId: UInt32 {
        get { start.loadWire(UInt32.self, at: WireLayout.ContextAttr.callbackId) }
        nonmutating set { start.storeWire(newValue, at: WireLayout.ContextAttr.callbackId) }
    }

    /// The fields, such as
    /// `{PortContext 0x11223344, MessageContext None, Sequence 1, MessageId 0, CallbackId 0}`.
    public var description: String {
        FieldFormatting.record([
            "PortContext": FieldFormatting.handle(portContext),
            "MessageContext": FieldFormatting.handle(messageContext),
            "Sequence": String(sequence),
            "MessageId": String(messageId),
            "CallbackId": String(callbackId),
        ])
    }
}
