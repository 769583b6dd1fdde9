/// A whole ALPC message: a buffer holding the `PORT_MESSAGE` header and the data, and an
/// attribute buffer.
///
/// The message owns both buffers: the header-and-data buffer is allocated once, 8-byte
/// aligned and zeroed, and freed with the message. ``port`` views it as a ``PortMessage``
/// and ``attributes`` holds the attributes. A new message has no data, so its
/// `TotalLength` is the header size (0x28).
///
/// ```swift
/// let message = try AlpcMessage(string: "Hello world !")
/// message.isViewValid = false
/// print(message.string, message.messageType)
/// ```
///
/// Names follow PythonForWindows' `AlpcMessage`, in Swift's spelling: `view_is_valid` is
/// ``isViewValid``, `security_attribute` is ``securityAttribute``, `valid_attributes` is
/// ``validAttributes``, and so on. The data is read with ``data`` or ``string`` and written
/// with the `setData` methods, which throw ``NTStatus/bufferTooSmall`` instead of truncating.
/// Beyond PythonForWindows, the token, direct and work-on-behalf attributes have the same
/// conveniences as the other four.
public final class AlpcMessage {
    /// The start of the header-and-data buffer.
    @usableFromInline
    let buffer: UnsafeMutableRawPointer

    /// The size of the header-and-data buffer in bytes.
    public let bufferSize: Int

    /// The message's attribute buffer.
    public let attributes: MessageAttributes

    /// False when the header-and-data buffer belongs to the caller
    /// (``init(unsafeBuffer:size:attributes:)``).
    private let ownsBuffer: Bool

    /// What came with the last message received into this one (descriptors, the indirect
    /// handle array, the QoS copy, the view's section); released by the next receive.
    var receivedResources: ReceivedResources?

    /// Creates an empty message in a zeroed buffer of `size` bytes, header included.
    ///
    /// - Parameters:
    ///   - size: The size of the header-and-data buffer; 4096 by default, like
    ///     PythonForWindows' `DEFAULT_MESSAGE_SIZE`.
    ///   - attributes: The attribute buffer; by default one with all seven attributes.
    /// - Precondition: `size` is at least ``PortMessageLayout/headerSize`` (0x28).
    public init(size: Int = 4096, attributes: MessageAttributes = .withAllAttributes()) {
        precondition(size >= PortMessageLayout.headerSize, "an ALPC message needs at least 0x28 bytes")
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: PortMessageLayout.alignment)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.buffer = buffer
        self.bufferSize = size
        self.attributes = attributes
        self.ownsBuffer = true
        PortMessage(unsafeStart: buffer, capacity: size)._storeLengths(0)
    }

    /// Views a message buffer that the caller owns (a C program's `PORT_MESSAGE` and the data
    /// after it), as it is: nothing is zeroed or copied, and receiving into the message writes
    /// into that buffer.
    ///
    /// - Parameters:
    ///   - unsafeBuffer: the `PORT_MESSAGE`, 8-byte aligned.
    ///   - size: the bytes the buffer holds, header included.
    ///   - attributes: the attribute buffer.
    /// - Warning: The buffer must stay valid while this message is alive; it is not freed.
    /// - Precondition: `size` is at least ``PortMessageLayout/headerSize`` (0x28).
    public init(unsafeBuffer: UnsafeMutableRawPointer, size: Int, attributes: MessageAttributes) {
        precondition(size >= PortMessageLayout.headerSize, "an ALPC message needs at least 0x28 bytes")
        self.buffer = unsafeBuffer
        self.bufferSize = size
        self.attributes = attributes
        self.ownsBuffer = false
    }

    deinit {
        if ownsBuffer { buffer.deallocate() }
    }

    /// Creates a message holding `data`, in a buffer of at least 4096 bytes with 0x200 bytes
    /// to spare, as PythonForWindows sizes the messages it builds from bytes.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than
    ///   ``AlpcLimits/maxDataLength`` bytes.
    public convenience init(
        data: some Sequence<UInt8>,
        attributes: MessageAttributes = .withAllAttributes()
    ) throws(NTStatus) {
        let bytes = Array(data)
        self.init(size: Swift.max(4096, bytes.count + 0x200), attributes: attributes)
        try setData(bytes)
    }

    /// Creates a message holding the UTF-8 bytes of `string` (no terminating NUL), in a
    /// buffer of at least 4096 bytes with 0x200 bytes to spare.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than
    ///   ``AlpcLimits/maxDataLength`` bytes.
    public convenience init(
        string: String,
        attributes: MessageAttributes = .withAllAttributes()
    ) throws(NTStatus) {
        try self.init(data: string.utf8, attributes: attributes)
    }

    // MARK: Header and data

    /// A view of the whole buffer as a `PORT_MESSAGE` and its data.
    ///
    /// - Warning: The view is valid only while this message is alive.
    @inlinable
    public var port: PortMessage {
        PortMessage(unsafeStart: buffer, capacity: bufferSize)
    }

    /// The most data bytes the message can carry: the buffer size less the header, and never
    /// more than ``AlpcLimits/maxDataLength``.
    @inlinable
    public var maxDataLength: Int { port.maxDataLength }

    /// The number of data bytes (`DataLength`); see ``setDataLength(_:)``.
    @inlinable
    public var dataLength: Int { Int(port.dataLength) }

    /// A copy of the data bytes, exactly as they are (NUL and 0xFF bytes included).
    public var data: [UInt8] {
        withData { Array($0) }
    }

    /// The data decoded as UTF-8, with invalid sequences replaced by U+FFFD.
    public var string: String {
        withData { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the data bytes, without copying them.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable
    public func withData<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withExtendedLifetime(self) { () throws(Failure) -> Result in
            try port.withData(body)
        }
    }

    /// Replaces the data with a copy of `bytes` and sets both lengths.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than ``maxDataLength``
    ///   bytes; the message is then left unchanged.
    @inlinable
    public func setData(_ bytes: UnsafeRawBufferPointer) throws(NTStatus) {
        try withExtendedLifetime(self) { () throws(NTStatus) in
            try port.setData(bytes)
        }
    }

    /// Replaces the data with a copy of `bytes` (an array, a slice, a `Data`, any sequence of
    /// bytes) and sets both lengths.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than ``maxDataLength``
    ///   bytes; the message is then left unchanged.
    @inlinable
    public func setData<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(NTStatus) {
        try withExtendedLifetime(self) { () throws(NTStatus) in
            try port.setData(bytes)
        }
    }

    /// Replaces the data with the UTF-8 bytes of `string` (no terminating NUL).
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when there are more than ``maxDataLength``
    ///   bytes; the message is then left unchanged.
    @inlinable
    public func setData(_ string: String) throws(NTStatus) {
        try setData(string.utf8)
    }

    /// Sets `DataLength` to `count` and `TotalLength` to 0x28 more, leaving the bytes as
    /// they are.
    ///
    /// - Throws: ``NTStatus/bufferTooSmall`` when `count` is above ``maxDataLength``, and
    ///   ``NTStatus/invalidParameter`` when it is negative; the message is then left unchanged.
    @inlinable
    public func setDataLength(_ count: Int) throws(NTStatus) {
        try withExtendedLifetime(self) { () throws(NTStatus) in
            try port.setDataLength(count)
        }
    }

    /// The whole message type (`u2.s2.Type`), unmasked as PythonForWindows returns it.
    @inlinable
    public var type: UInt16 {
        get { withExtendedLifetime(self) { port.type } }
        set { withExtendedLifetime(self) { port.type = newValue } }
    }

    /// The message type, decoded.
    @inlinable
    public var messageType: MessageType {
        get { MessageType(rawValue: type) }
        set { type = newValue.rawValue }
    }

    /// The message id (`MessageId`): zero in a new message, the request's id in a reply.
    @inlinable
    public var messageId: UInt32 {
        get { withExtendedLifetime(self) { port.messageId } }
        set { withExtendedLifetime(self) { port.messageId = newValue } }
    }

    /// The sender's process and thread ids (`ClientId`).
    @inlinable
    public var clientId: ClientID {
        get { withExtendedLifetime(self) { port.clientId } }
        set { withExtendedLifetime(self) { port.clientId = newValue } }
    }

    /// The callback id (`CallbackId`).
    @inlinable
    public var callbackId: UInt32 {
        get { withExtendedLifetime(self) { port.callbackId } }
        set { withExtendedLifetime(self) { port.callbackId = newValue } }
    }

    // MARK: Attributes

    /// The attributes that carry data in this message (`ValidAttributes`).
    @inlinable
    public var validAttributes: AttributeFlags {
        get { attributes.valid }
        set { attributes.valid = newValue }
    }

    /// The attributes that have a blob (`AllocatedAttributes`).
    @inlinable
    public var allocatedAttributes: AttributeFlags { attributes.allocated }

    /// The security attribute, or `nil` when it is not allocated.
    @inlinable
    public var securityAttribute: SecurityAttribute? { attributes.security }

    /// The data view attribute, or `nil` when it is not allocated.
    @inlinable
    public var viewAttribute: DataViewAttribute? { attributes.view }

    /// The context attribute, or `nil` when it is not allocated.
    @inlinable
    public var contextAttribute: ContextAttribute? { attributes.context }

    /// The handle attribute, or `nil` when it is not allocated.
    @inlinable
    public var handleAttribute: HandleAttribute? { attributes.handle }

    /// The token attribute, or `nil` when it is not allocated.
    @inlinable
    public var tokenAttribute: TokenAttribute? { attributes.token }

    /// The direct attribute, or `nil` when it is not allocated.
    @inlinable
    public var directAttribute: DirectAttribute? { attributes.direct }

    /// The work-on-behalf attribute, or `nil` when it is not allocated.
    @inlinable
    public var workOnBehalfAttribute: WorkOnBehalfAttribute? { attributes.workOnBehalf }

    /// Whether the security attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isSecurityValid: Bool {
        get { attributes.isValid(.security) }
        set { attributes.setValid(.security, newValue) }
    }

    /// Whether the data view attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isViewValid: Bool {
        get { attributes.isValid(.view) }
        set { attributes.setValid(.view, newValue) }
    }

    /// Whether the context attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isContextValid: Bool {
        get { attributes.isValid(.context) }
        set { attributes.setValid(.context, newValue) }
    }

    /// Whether the handle attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isHandleValid: Bool {
        get { attributes.isValid(.handle) }
        set { attributes.setValid(.handle, newValue) }
    }

    /// Whether the token attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isTokenValid: Bool {
        get { attributes.isValid(.token) }
        set { attributes.setValid(.token, newValue) }
    }

    /// Whether the direct attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isDirectValid: Bool {
        get { attributes.isValid(.direct) }
        set { attributes.setValid(.direct, newValue) }
    }

    /// Whether the work-on-behalf attribute carries data; setting it sets or clears the bit.
    @inlinable
    public var isWorkOnBehalfValid: Bool {
        get { attributes.isValid(.workOnBehalf) }
        set { attributes.setValid(.workOnBehalf, newValue) }
    }
}
