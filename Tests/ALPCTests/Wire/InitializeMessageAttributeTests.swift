import CALPC
import Testing

/// `AlpcInitializeMessageAttribute`, as reference section 2.10 describes it.
@Suite("AlpcInitializeMessageAttribute")
struct InitializeMessageAttributeTests {
    static let sentinel: UInt8 = 0xCD

    /// Flag sets to try, with unknown bits among them; the size is that of the seven bits.
    static let cases: [(flags: UInt32, size: Int)] = [
        (0, 8),
        (ALPC_MESSAGE_CONTEXT_ATTRIBUTE, 0x28),
        (ALPC_MESSAGE_SECURITY_ATTRIBUTE | ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE, 0x28),
        (ALPC_MESSAGE_ATTRIBUTE_ALL, 0xA0),
        (ALPC_MESSAGE_ATTRIBUTE_ALL | 0x0040_0001, 0xA0),
        (0x0100_0000, 8),
    ]

    /// Calls `body` with a buffer of `count` sentinel bytes, then returns the bytes.
    static func withSentinelBuffer(
        count: Int,
        _ body: (UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>) -> Void
    ) -> [UInt8] {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: sentinel, count: count)
        body(raw.bindMemory(to: ALPC_MESSAGE_ATTRIBUTES.self, capacity: 1))
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    @Test("the size query (flags, NULL, 0, &size) gives the size and STATUS_BUFFER_TOO_SMALL")
    func sizeQuery() {
        for (flags, size) in Self.cases {
            var required: SIZE_T = 0xDEAD
            let status = AlpcInitializeMessageAttribute(flags, nil, 0, &required)
            #expect(status == STATUS_BUFFER_TOO_SMALL, "flags \(flags)")
            #expect(required == SIZE_T(size), "flags \(flags)")
        }
    }

    @Test("a buffer one byte too small gets STATUS_BUFFER_TOO_SMALL, the size, and no write")
    func tooSmall() {
        for (flags, size) in Self.cases {
            var required: SIZE_T = 0
            var status: NTSTATUS = STATUS_SUCCESS
            let bytes = Self.withSentinelBuffer(count: size) { buffer in
                status = AlpcInitializeMessageAttribute(flags, buffer, SIZE_T(size - 1), &required)
            }
            #expect(status == STATUS_BUFFER_TOO_SMALL, "flags \(flags)")
            #expect(required == SIZE_T(size), "flags \(flags)")
            #expect(bytes.allSatisfy { $0 == Self.sentinel }, "flags \(flags): the buffer was touched")
        }
    }

    @Test("an exact fit writes Allocated = flags (unknown bits kept) and Valid = 0, and nothing else")
    func exactFit() {
        for (flags, size) in Self.cases {
            var required: SIZE_T = 0
            var status: NTSTATUS = STATUS_UNSUCCESSFUL
            let bytes = Self.withSentinelBuffer(count: size + 16) { buffer in
                status = AlpcInitializeMessageAttribute(flags, buffer, SIZE_T(size), &required)
            }
            #expect(status == STATUS_SUCCESS, "flags \(flags)")
            #expect(required == SIZE_T(size))
            let allocated = bytes[0..<4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(allocated == flags)
            #expect(bytes[4..<8].allSatisfy { $0 == 0 }, "ValidAttributes must be 0")
            #expect(bytes[8...].allSatisfy { $0 == Self.sentinel }, "flags \(flags): the blobs were touched")
        }
    }

    @Test("a NULL buffer with a big enough size succeeds and still gives the size")
    func nullBufferBigSize() {
        for (flags, size) in Self.cases {
            var required: SIZE_T = 0
            #expect(AlpcInitializeMessageAttribute(flags, nil, 0x1000, &required) == STATUS_SUCCESS)
            #expect(required == SIZE_T(size))
        }
        #expect(AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, nil, 0xA0, nil) == STATUS_SUCCESS)
        #expect(AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, nil, 0x9F, nil) == STATUS_BUFFER_TOO_SMALL)
    }
}
