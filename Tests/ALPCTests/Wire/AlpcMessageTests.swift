import ALPC
import Testing

/// `AlpcMessage`: an owned header-and-data buffer plus attributes.
@Suite("AlpcMessage")
struct AlpcMessageTests {
    static let message1: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
    static let message2: [UInt8] = Array("Message 2-".utf8) + (0...255).map { UInt8($0) }

    @Test("a new message is empty, with TotalLength = 0x28 and all seven attributes")
    func newMessage() {
        let message = AlpcMessage()
        #expect(message.bufferSize == 4096)
        #expect(message.maxDataLength == 4096 - 0x28)
        #expect(message.dataLength == 0 && message.data.isEmpty && message.string.isEmpty)
        #expect(message.port.totalLength == 0x28)
        #expect(message.port.capacity == 4096)
        #expect(message.type == 0 && message.messageId == 0 && message.callbackId == 0)
        #expect(message.clientId == ClientID(process: 0, thread: 0))
        #expect(message.allocatedAttributes == .all)
        #expect(message.validAttributes.isEmpty)
        #expect(message.attributes.bufferSize == 0xA0)
        #expect(Int(bitPattern: message.port.start) % 8 == 0)

        let small = AlpcMessage(size: 0x28, attributes: .with([]))
        #expect(small.maxDataLength == 0 && small.port.totalLength == 0x28)
        #expect(small.attributes.bufferSize == 8)
    }

    @Test("data with NUL and 0xFF bytes round-trips exactly")
    func roundTrip() throws {
        let message = AlpcMessage()
        try message.setData(Self.message1)
        #expect(message.data == Self.message1)
        #expect(message.dataLength == 15 && message.port.totalLength == 0x28 + 15)

        try message.setData(Self.message2)
        #expect(message.data == Self.message2)
        #expect(message.dataLength == 266 && message.port.totalLength == 0x28 + 266)

        let copy = try AlpcMessage(data: Self.message2)
        #expect(copy.data == Self.message2)
        Self.message2.withUnsafeBytes { raw in
            let other = AlpcMessage()
            #expect(throws: Never.self) { try other.setData(raw) }
            #expect(other.data == Self.message2)
        }
    }

    @Test("strings: UTF-8 in, lossy UTF-8 out")
    func strings() throws {
        let message = try AlpcMessage(string: "Hello world !")
        #expect(message.string == "Hello world !")
        #expect(message.dataLength == 13)
        try message.setData("REQUEST 'Hello world !' DONE")
        #expect(message.string == "REQUEST 'Hello world !' DONE")
        try message.setData("héllo")
        #expect(message.data == [0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F])
        try message.setData(Self.message1)
        #expect(message.string == "Message 1\u{0}\u{FFFD}ABCD")
    }

    @Test("messages built from bytes or a string get max(4096, count + 0x200) bytes")
    func convenienceSizes() throws {
        #expect(try AlpcMessage(string: "short").bufferSize == 4096)
        #expect(try AlpcMessage(data: [UInt8](repeating: 7, count: 5000)).bufferSize == 5000 + 0x200)
        #expect(throws: NTStatus.bufferTooSmall) {
            try AlpcMessage(data: [UInt8](repeating: 7, count: AlpcLimits.maxDataLength + 1))
        }
        let largest = try AlpcMessage(data: [UInt8](repeating: 7, count: AlpcLimits.maxDataLength))
        #expect(largest.port.totalLength == 0xFFFF)
    }

    @Test("oversize data throws bufferTooSmall and changes neither the data nor the lengths")
    func oversize() throws {
        let message = AlpcMessage(size: 0x28 + 32)
        try message.setData(Self.message1)
        let before = Array(UnsafeRawBufferPointer(start: message.port.start, count: message.bufferSize))
        #expect(throws: NTStatus.bufferTooSmall) { try message.setData(Self.message2) }
        #expect(throws: NTStatus.bufferTooSmall) { try message.setData(String(repeating: "x", count: 33)) }
        #expect(throws: NTStatus.bufferTooSmall) { try message.setData(Self.message2.lazy.filter { _ in true }) }
        #expect(throws: NTStatus.bufferTooSmall) { try message.setDataLength(33) }
        let after = Array(UnsafeRawBufferPointer(start: message.port.start, count: message.bufferSize))
        #expect(after == before)
        #expect(message.data == Self.message1)
        #expect(message.dataLength == 15 && message.port.totalLength == 0x28 + 15)
    }

    @Test("header fields write through to the buffer")
    func headerFields() {
        let message = AlpcMessage()
        message.messageType = MessageType(.request, continuationRequired: true)
        message.messageId = 42
        message.callbackId = 7
        message.clientId = ClientID(process: 1000, thread: 1001)
        #expect(message.type == 0x2001)
        #expect(message.messageType.kind == .request)
        #expect(message.port.messageId == 42 && message.port.callbackId == 7)
        #expect(message.port.clientId.process == 1000 && message.port.clientId.thread == 1001)
        let raw = message.port.start
        #expect(raw.load(fromByteOffset: 0x04, as: UInt16.self) == 0x2001)
        #expect(raw.load(fromByteOffset: 0x18, as: UInt32.self) == 42)
        #expect(raw.load(fromByteOffset: 0x08, as: UInt64.self) == 1000)
        message.type = 3
        #expect(message.messageType.kind == .datagram && !message.messageType.continuationRequired)
    }

    @Test("attribute conveniences follow the attribute buffer")
    func attributes() {
        let message = AlpcMessage()
        #expect(message.securityAttribute != nil && message.viewAttribute != nil)
        #expect(message.contextAttribute != nil && message.handleAttribute != nil)
        #expect(message.tokenAttribute != nil && message.directAttribute != nil)
        #expect(message.workOnBehalfAttribute != nil)
        #expect(!message.isViewValid)

        message.isViewValid = true
        message.isHandleValid = true
        #expect(message.validAttributes == [.view, .handle])
        #expect(message.attributes.valid == [.view, .handle])
        message.isViewValid = false
        #expect(message.validAttributes == .handle)
        message.isSecurityValid = true
        message.isContextValid = true
        message.isTokenValid = true
        message.isDirectValid = true
        message.isWorkOnBehalfValid = true
        #expect(message.validAttributes == .all.subtracting(.view))
        #expect(message.isSecurityValid && message.isContextValid && message.isTokenValid)
        #expect(message.isDirectValid && message.isWorkOnBehalfValid && message.isHandleValid)
        message.validAttributes = []
        #expect(!message.isHandleValid && !message.isTokenValid)

        let contextOnly = AlpcMessage(attributes: .with(.context))
        #expect(contextOnly.contextAttribute != nil)
        #expect(contextOnly.viewAttribute == nil && contextOnly.handleAttribute == nil)
        #expect(contextOnly.securityAttribute == nil && contextOnly.tokenAttribute == nil)
        #expect(contextOnly.directAttribute == nil && contextOnly.workOnBehalfAttribute == nil)
        #expect(contextOnly.allocatedAttributes == .context)
    }

    @Test("a message needs room for the header")
    func tooSmall() async {
        await #expect(processExitsWith: .failure) {
            _ = AlpcMessage(size: 0x27)
        }
    }
}
