internal import CALPC

/// The header fields a receiver sets on a message it delivers; nil leaves the field as the
/// message holds it.
struct DeliveryStamp {
    var type: UInt16?
    var clientProcess: UInt64?
    var clientThread: UInt64?
    var messageId: UInt32?
    var callbackId: UInt32?

    /// Writes the fields that are set into `port`.
    func apply(to port: PortMessage) {
        if let type { port.type = type }
        if clientProcess != nil || clientThread != nil {
            let old = port.clientId
            port.clientId = ClientID(process: clientProcess ?? old.process, thread: clientThread ?? old.thread)
        }
        if let messageId { port.messageId = messageId }
        if let callbackId { port.callbackId = callbackId }
    }
}

/// Where a receive puts the message it takes: copied into an `AlpcMessage`, or lent in place to
/// a closure. A delivery runs in two steps: `load` (which may refuse the message, leaving it
/// queued) and, once the receiver did its bookkeeping, `deliver` (after which the message is
/// consumed, even when `deliver` throws).
/// What reads a message lent in place (the in-place API's closure), passed down the receive
/// path as a parameter rather than stored: storing it would need `withoutActuallyEscaping`,
/// which boxes a closure that captures anything on the heap, once per message.
typealias MessageReader = (ReceivedMessage) throws(NTStatus) -> Void

protocol MessageSink {
    /// Takes the header and the `dataLength` validated data bytes at `source`, which stay valid
    /// until `deliver` returns. Throws to leave the message queued.
    mutating func load(from source: UnsafeRawPointer, dataLength: Int) throws(NTStatus)

    /// Hands the loaded message over with the header fields of `stamp`, and the attributes,
    /// context and sender the receiver knows; a sink that lends the message in place lends it
    /// to `reader`. A throw is the receiving closure's failure.
    mutating func deliver(
        _ stamp: DeliveryStamp, attributes: borrowing InboundAttributesHold, context: ContextStamp?, sender: PeerCredentials,
        reader: MessageReader
    ) throws(NTStatus)
}

extension MessageSink {
    /// Loads and delivers `bytes` (a header and its data, or nothing for a bare header) in
    /// one go; `loaded` says whether the load succeeded.
    mutating func deliver(
        bytes: [UInt8], _ stamp: DeliveryStamp, attributes: borrowing InboundAttributesHold, context: ContextStamp?,
        sender: PeerCredentials, reader: MessageReader, loaded: inout Bool
    ) throws(NTStatus) {
        guard bytes.count >= SlotRecord.headerSize else {
            try load(from: SlotRecord.emptyHeader, dataLength: 0)
            loaded = true
            try deliver(stamp, attributes: attributes, context: context, sender: sender, reader: reader)
            return
        }
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(NTStatus) in
                try load(from: raw.baseAddress!, dataLength: raw.count - SlotRecord.headerSize)
                loaded = true
                try deliver(stamp, attributes: attributes, context: context, sender: sender, reader: reader)
            }
        }
        try outcome.get()
    }
}

/// Copies each message into an `AlpcMessage` (the copying API).
///
/// A sink lives only for the receive it is given to, while its creator holds the message, so
/// it keeps the message unretained and uses it as guaranteed: no reference counting per
/// message.
struct CopyingSink: MessageSink {
    private let message: Unmanaged<AlpcMessage>

    init(message: AlpcMessage) {
        self.message = Unmanaged.passUnretained(message)
    }

    func load(from source: UnsafeRawPointer, dataLength: Int) throws(NTStatus) {
        let fits = message._withUnsafeGuaranteedRef { SlotRecord.copy(from: source, dataLength: dataLength, into: $0) }
        guard fits else { throw .bufferTooSmall }
    }

    func deliver(
        _ stamp: DeliveryStamp, attributes: borrowing InboundAttributesHold, context: ContextStamp?, sender: PeerCredentials,
        reader: MessageReader
    ) {
        message._withUnsafeGuaranteedRef { message in
            stamp.apply(to: message.port)
            InboundAttributes.install(attributes, into: message, context: context, sender: sender)
        }
    }
}

/// Lends each message in place, as a ``ReceivedMessage``, to the reader the receive path was
/// given. Not generic: the public APIs keep the closure's result in their own (inlinable, so
/// specialized) frames, and the receive paths run without generic metadata.
/// Attributes are not delivered: what travelled is released with them.
struct LendingSink: MessageSink {
    private var source: UnsafeRawPointer?
    private var dataLength = 0
    /// Whether the reader ran.
    private(set) var delivered = false

    mutating func load(from source: UnsafeRawPointer, dataLength: Int) {
        self.source = source
        self.dataLength = dataLength
    }

    mutating func deliver(
        _ stamp: DeliveryStamp, attributes: borrowing InboundAttributesHold, context: ContextStamp?, sender: PeerCredentials,
        reader: MessageReader
    ) throws(NTStatus) {
        guard let source else { throw .unsuccessful }
        // Fields not stamped are read once from the source; only the data is lent, bounded
        // by the validated length.
        let port = PortMessage(unsafeStart: UnsafeMutableRawPointer(mutating: source), capacity: SlotRecord.headerSize)
        let client = (stamp.clientProcess == nil || stamp.clientThread == nil) ? port.clientId : ClientID(process: 0, thread: 0)
        let view = ReceivedMessage(
            type: stamp.type ?? port.type,
            messageId: stamp.messageId ?? port.messageId,
            clientId: ClientID(process: stamp.clientProcess ?? client.process, thread: stamp.clientThread ?? client.thread),
            data: UnsafeRawBufferPointer(start: source + SlotRecord.headerSize, count: dataLength))
        self.source = nil
        delivered = true
        try reader(view)
    }
}
