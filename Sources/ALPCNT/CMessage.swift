internal import ALPC
internal import CALPC

/// C messages and attribute buffers seen through the Swift API, without copying them.
enum CMessage {
    /// The header size, 0x28.
    static let headerSize = MemoryLayout<PORT_MESSAGE>.size

    /// Runs `body` with a message over the C buffer to send (it holds `TotalLength` bytes, at
    /// least the header) and its attributes.
    static func withOutgoing<Result>(
        _ message: UnsafeMutablePointer<PORT_MESSAGE>, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?,
        _ body: (AlpcMessage) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        let size = outgoingSize(message)
        return try withAttributes(attributes) { (attributes) throws(NTStatus) -> Result in
            try body(AlpcMessage(unsafeBuffer: UnsafeMutableRawPointer(message), size: size, attributes: attributes))
        }
    }

    /// ``withOutgoing(_:attributes:_:)`` through `wrappers`, a port's send wrappers: the last one
    /// is reused when it fits. (`wrappers` is not optional: binding an optional argument
    /// retained and released the cache on every call.)
    @inline(__always)
    static func withOutgoing<Result>(
        _ message: UnsafeMutablePointer<PORT_MESSAGE>, attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?,
        wrappers: WrapperCache, _ body: (AlpcMessage) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        try wrappers.withMessage(UnsafeMutableRawPointer(message), size: outgoingSize(message), attributes: attributes) {
            (wrapper) throws(NTStatus) -> (result: Result, reusable: Bool) in (try body(wrapper), true)
        }
    }

    /// The bytes of the C message to send: its `TotalLength`, at least the header.
    private static func outgoingSize(_ message: UnsafeMutablePointer<PORT_MESSAGE>) -> Int {
        max(Int(UInt16(bitPattern: message.pointee.u1.s1.TotalLength)), headerSize)
    }

    /// Runs `body` with the caller's attribute buffer, or with an empty one on the stack.
    private static func withAttributes<Result>(
        _ buffer: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?, _ body: (MessageAttributes) throws(NTStatus) -> Result
    ) throws(NTStatus) -> Result {
        if let buffer { return try body(MessageAttributes(unsafeBuffer: buffer)) }
        var empty = ALPC_MESSAGE_ATTRIBUTES()
        return try withUnsafeMutablePointer(to: &empty) { (header) throws(NTStatus) -> Result in
            try body(MessageAttributes(unsafeBuffer: header))
        }
    }

    /// Receives with `receive` into the C buffer `message` of `*bufferLength` bytes (or
    /// `defaultCapacity`, evaluated only then, when the length pointer is NULL), through
    /// `wrappers` (the last one is reused when it fits), for `port`, which keeps what came with
    /// the message. When the message does not fit: STATUS_BUFFER_TOO_SMALL, `*bufferLength` set
    /// to the length needed, the buffer's header left as it was, and the message still queued.
    static func receive(
        into message: UnsafeMutablePointer<PORT_MESSAGE>, bufferLength: UnsafeMutablePointer<SIZE_T>?,
        attributes: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>?, defaultCapacity: @autoclosure () -> Int, port: NTPort,
        wrappers: WrapperCache, _ receive: (AlpcMessage) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let capacity = bufferLength.map { Int(clamping: $0.pointee) } ?? defaultCapacity()
        guard capacity >= headerSize else { throw .invalidParameter6 }
        port.forgetReceived(at: UnsafeMutableRawPointer(message))
        let savedLength = message.pointee.u1.Length
        try wrappers.withMessage(UnsafeMutableRawPointer(message), size: capacity, attributes: attributes) {
            (wrapper) throws(NTStatus) -> (result: Void, reusable: Bool) in
            do throws(NTStatus) {
                try receive(wrapper)
            } catch {
                if error == .bufferTooSmall {
                    bufferLength?.pointee = SIZE_T(UInt16(bitPattern: message.pointee.u1.s1.TotalLength))
                    message.pointee.u1.Length = savedLength
                }
                throw error
            }
            // A wrapper that keeps what came with its message is not reused.
            return ((), !port.retain(received: wrapper, at: UnsafeMutableRawPointer(message)))
        }
    }
}
