/// A received message lent to a closure in place, without being copied: its header fields and
/// a read-only view of its data.
///
/// ``AlpcClient/sendReceive(dataLength:timeout:fill:reply:)-2g3g8``, ``AlpcClient/receive(timeout:_:)-3da09``
/// and ``AlpcServer/receive(timeout:_:)->_`` pass one to their closure. The header fields are the
/// ones the receiver sees in a copied message (the same Type, MessageId and ClientId); `data`
/// never extends beyond the message's validated length, whatever the sender writes meanwhile.
///
/// - Warning: The value, and `data` above all, is valid only inside the closure it is passed
///   to: do not keep it or let `data` escape. Messages received in place carry no attributes;
///   use the copying API to receive attributes.
public struct ReceivedMessage {
    /// The whole message type (`u2.s2.Type`): the kind in the low byte, flags above.
    public let type: UInt16
    /// The message's MessageId: on a server, the id to reply to; on a client, the id the
    /// server gave the request.
    public let messageId: UInt32
    /// The sender's process and thread.
    public let clientId: ClientID
    /// The message's data, at most the connection's maximum data length.
    public let data: UnsafeRawBufferPointer

    init(type: UInt16, messageId: UInt32, clientId: ClientID, data: UnsafeRawBufferPointer) {
        self.type = type
        self.messageId = messageId
        self.clientId = clientId
        self.data = data
    }

    /// The message type, decoded.
    public var messageType: MessageType { MessageType(rawValue: type) }

    /// The number of data bytes.
    public var dataLength: Int { data.count }
}

@available(*, unavailable, message: "a ReceivedMessage is valid only inside its closure")
extension ReceivedMessage: Sendable {}
