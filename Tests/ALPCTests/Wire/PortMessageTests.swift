import ALPC
import Testing

/// `PortMessage`: a non-owning view that reads and writes the header and data in place.
@Suite("PortMessage")
struct PortMessageTests {
    /// Calls `body` with `count` bytes of `fill`, then returns the bytes.
    static func withMemory(
        count: Int,
        fill: UInt8 = 0,
        _ body: (UnsafeMutableRawPointer) throws -> Void
    ) rethrows -> [UInt8] {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: fill, count: count)
        try body(raw)
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    @Test("fields are little-endian at their x64 offsets, at an unaligned address")
    func unalignedLittleEndian() {
        let bytes = Self.withMemory(count: 0x29) { raw in
            let view = PortMessage(unsafeStart: raw + 1, capacity: 0x28)
            view.dataLength = 0x0102
            view.totalLength = 0x0304
            view.type = 0x0506
            view.dataInfoOffset = 0x0708
            view.clientId = ClientID(process: 0x1112_1314_1516_1718, thread: 0x2122_2324_2526_2728)
            view.messageId = 0x3132_3334
            view.clientViewSize = 0x4142_4344_4546_4748
            #expect(view.length == 0x0304_0102)
            #expect(view.zeroInit == 0x0708_0506)
            #expect(view.callbackId == 0x4546_4748)
        }
        let header = Array(bytes[1...])
        #expect(bytes[0] == 0)
        #expect(header[0x00..<0x04] == [0x02, 0x01, 0x04, 0x03])
        #expect(header[0x04..<0x08] == [0x06, 0x05, 0x08, 0x07])
        #expect(header[0x08..<0x10] == [0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11])
        #expect(header[0x10..<0x18] == [0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21])
        #expect(header[0x18..<0x1C] == [0x34, 0x33, 0x32, 0x31])
        #expect(header[0x1C..<0x20] == [0, 0, 0, 0])
        #expect(header[0x20..<0x28] == [0x48, 0x47, 0x46, 0x45, 0x44, 0x43, 0x42, 0x41])
    }

    @Test("setting CallbackId leaves the high half of ClientViewSize alone")
    func callbackIdUnion() {
        _ = Self.withMemory(count: 0x28) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x28)
            view.clientViewSize = 0xAAAA_BBBB_CCCC_DDDD
            view.callbackId = 7
            #expect(view.clientViewSize == 0xAAAA_BBBB_0000_0007)
        }
    }

    @Test("setData writes the bytes after the header and both lengths")
    func setData() throws {
        let payload: [UInt8] = Array("Message 1".utf8) + [0x00, 0xFF] + Array("ABCD".utf8)
        let bytes = try Self.withMemory(count: 0x40, fill: 0xEE) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x40)
            try view.setData(payload)
            #expect(view.dataLength == 15 && view.totalLength == 0x28 + 15)
            #expect(Array(view.data) == payload)
            #expect(view.withData { Array($0) } == payload)
        }
        #expect(Array(bytes[0x28..<0x28 + 15]) == payload)
        #expect(bytes[(0x28 + 15)...].allSatisfy { $0 == 0xEE }, "bytes after the data changed")
        #expect(bytes[0..<4] == [15, 0, 0x37, 0])
    }

    @Test("the data never extends beyond the memory viewed, whatever DataLength claims")
    func dataLengthLies() {
        _ = Self.withMemory(count: 0x100, fill: 0xAB) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x28 + 8)
            view.dataLength = 0xFFFF
            #expect(view.maxDataLength == 8)
            #expect(view.data.count == 8)
            #expect(view.data.baseAddress == raw + 0x28)
            #expect(view.withData { $0.count } == 8)

            let headerOnly = PortMessage(unsafeStart: raw, capacity: 0x28)
            #expect(headerOnly.maxDataLength == 0)
            #expect(headerOnly.data.isEmpty)
        }
    }

    @Test("oversize data throws bufferTooSmall and changes nothing")
    func oversize() throws {
        var before: [UInt8] = []
        let after = try Self.withMemory(count: 0x28 + 16, fill: 0x5A) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x28 + 16)
            try view.setData([1, 2, 3])
            before = Array(UnsafeRawBufferPointer(start: raw, count: 0x28 + 16))
            #expect(throws: NTStatus.bufferTooSmall) { try view.setData([UInt8](repeating: 9, count: 17)) }
            // A sequence without contiguous storage takes the staging path.
            #expect(throws: NTStatus.bufferTooSmall) { try view.setData((0..<17).lazy.map { UInt8($0) }) }
            #expect(throws: NTStatus.bufferTooSmall) { try view.setDataLength(17) }
            #expect(throws: NTStatus.invalidParameter) { try view.setDataLength(-1) }
            #expect(view.dataLength == 3 && view.totalLength == 0x2B)
        }
        #expect(after == before)
    }

    @Test("data that exactly fills the view is accepted, from any kind of sequence")
    func exactFit() throws {
        _ = try Self.withMemory(count: 0x28 + 16) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x28 + 16)
            try view.setData((0..<16).lazy.map { UInt8($0) })
            #expect(Array(view.data) == Array(0..<16))
            try view.setData(UnsafeRawBufferPointer(start: nil, count: 0))
            #expect(view.dataLength == 0 && view.totalLength == 0x28)
            try view.setDataLength(16)
            #expect(Array(view.data) == Array(0..<16), "setDataLength must not touch the bytes")
            #expect(view.totalLength == 0x38)
        }
    }

    @Test("the 0xFFFF message limit caps the data of a large buffer")
    func messageLimit() throws {
        let capacity = 0x20000
        _ = try Self.withMemory(count: capacity) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: capacity)
            #expect(view.maxDataLength == 0xFFFF - 0x28)
            #expect(throws: NTStatus.bufferTooSmall) { try view.setData([UInt8](repeating: 1, count: 0xFFFF - 0x27)) }
            #expect(view.dataLength == 0)
            try view.setData([UInt8](repeating: 1, count: 0xFFFF - 0x28))
            #expect(view.totalLength == 0xFFFF)
            #expect(view.dataLength == 0xFFD7)
        }
    }

    @Test("setData accepts bytes that overlap the message's own data")
    func overlappingSource() throws {
        _ = try Self.withMemory(count: 0x40) { raw in
            let view = PortMessage(unsafeStart: raw, capacity: 0x40)
            try view.setData(Array("0123456789".utf8))
            try view.setData(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(view.data)[2...]))
            #expect(Array(view.data) == Array("23456789".utf8))
        }
    }

    @Test("a view needs room for the header")
    func tooSmall() async {
        await #expect(processExitsWith: .failure) {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: 0x27, alignment: 8)
            _ = PortMessage(unsafeStart: raw, capacity: 0x27)
        }
    }
}
