internal import ALPC
internal import CALPC

/// C messages and attribute buffers seen through the Swift API, without copying them.
enum CMessage {
    /// The header size, 0x28.
    static let headerSize = MemoryLayout<PORT_MESSAGE>.size

    /// A message to send: the C buffer holds `TotalLength` bytes (at least the header).
    static func outgoing(
        _ message: UnsafeMutablePointer<PORT_MESSAGE>, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
    ) -> AlpcMessage {
        let total = Int(UInt16(bitPattern: message.pointee.u1.s1.TotalLength))
        return AlpcMessage(
            unsafeBuffer: UnsafeMutableRawPointer(message), size: max(total, headerSize),
            attributes: attributeBuffer(attributes))
    }

    /// A message to receive into a C buffer of `capacity` bytes.
    static func incoming(
        _ message: UnsafeMutablePointer<PORT_MESSAGE>, capacity: Int, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?
    ) -> AlpcMessage {
        AlpcMessage(unsafeBuffer: UnsafeMutableRawPointer(message), size: capacity, attributes: attributeBuffer(attributes))
    }

    /// The caller's attribute buffer, or an empty one of our own.
    private static func attributeBuffer(_ buffer: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?) -> MessageAttributes {
        buffer.map { MessageAttributes(unsafeBuffer: $0) } ?? MessageAttributes(flags: [])
    }

    /// Receives with `receive` into the C buffer `message` of `*bufferLength` bytes (or
    /// `defaultCapacity` when the length pointer is NULL). When the message does not fit:
    /// STATUS_BUFFER_TOO_SMALL, `*bufferLength` set to the length needed, the buffer's header
    /// left as it was, and the message still queued.
    static func receive(
        into message: UnsafeMutablePointer<PORT_MESSAGE>, bufferLength: UnsafeMutablePointer<SIZE_T>?,
        attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?, defaultCapacity: Int, port: NTPort,
        _ receive: (AlpcMessage) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let capacity = bufferLength.map { Int(clamping: $0.pointee) } ?? defaultCapacity
        guard capacity >= headerSize else { throw .invalidParameter6 }
        port.forgetReceived(at: UnsafeMutableRawPointer(message))
        let savedLength = message.pointee.u1.Length
        let wrapper = incoming(message, capacity: capacity, attributes: attributes)
        do {
            try receive(wrapper)
        } catch {
            if error == .bufferTooSmall {
                bufferLength?.pointee = SIZE_T(UInt16(bitPattern: message.pointee.u1.s1.TotalLength))
                message.pointee.u1.Length = savedLength
            }
            throw error
        }
        port.retain(received: wrapper, at: UnsafeMutableRawPointer(message))
    }
}
