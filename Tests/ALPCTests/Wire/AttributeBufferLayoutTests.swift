import ALPC
import CALPC
import Testing

/// The blob layout of attribute buffers, for every subset of the seven attributes:
/// `AlpcGetMessageAttribute` and `AlpcGetHeaderSize` against an independent computation,
/// and `MessageAttributes` against both.
@Suite("Attribute buffer layout")
struct AttributeBufferLayoutTests {
    /// The seven attribute bits from the highest down, with the reference's x64 blob sizes
    /// (section 2.5), written out here rather than taken from the header.
    static let reference: [(flag: UInt32, size: Int)] = [
        (0x8000_0000, 0x18),  // security
        (0x4000_0000, 0x20),  // view
        (0x2000_0000, 0x20),  // context
        (0x1000_0000, 0x18),  // handle
        (0x0800_0000, 0x18),  // token
        (0x0400_0000, 0x08),  // direct
        (0x0200_0000, 0x08),  // work on behalf
    ]

    /// Bits that are not attributes: they must take no space and never name a blob.
    static let unknownBitPatterns: [UInt32] = [0x0000_0001, 0x0100_0000, 0x00A5_A5A5, 0x01FF_FFFF]

    /// The flags of subset `subset` (bit i of the subset selects the i-th attribute).
    static func flags(of subset: Int) -> UInt32 {
        var flags: UInt32 = 0
        for index in 0..<7 where subset & (1 << index) != 0 {
            flags |= reference[index].flag
        }
        return flags
    }

    /// Walks the bits from the top: the offset of each allocated blob and the total size.
    static func expectedLayout(of flags: UInt32) -> (offsets: [UInt32: Int], total: Int) {
        var offsets: [UInt32: Int] = [:]
        var offset = 8
        for (flag, size) in reference where flags & flag != 0 {
            offsets[flag] = offset
            offset += size
        }
        return (offsets, offset)
    }

    /// Calls `body` with a zeroed 8-aligned buffer whose AllocatedAttributes is `allocated`.
    static func withBuffer<R>(allocated: UInt32, _ body: (UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>) -> R) -> R {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 0x100, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 0x100)
        let header = raw.bindMemory(to: ALPC_MESSAGE_ATTRIBUTES.self, capacity: 1)
        header.pointee.AllocatedAttributes = allocated
        return body(header)
    }

    static func offset(of flag: UInt32, in header: UnsafeMutablePointer<ALPC_MESSAGE_ATTRIBUTES>) -> Int? {
        AlpcGetMessageAttribute(header, flag).map { UnsafeRawPointer(header).distance(to: $0) }
    }

    @Test("AlpcGetHeaderSize and AlpcGetMessageAttribute for every subset", arguments: 0..<128)
    func everySubset(subset: Int) {
        let flags = Self.flags(of: subset)
        let expected = Self.expectedLayout(of: flags)
        #expect(Int(AlpcGetHeaderSize(flags)) == expected.total)

        for unknown in [0] + Self.unknownBitPatterns {
            let allocated = flags | unknown
            #expect(Int(AlpcGetHeaderSize(allocated)) == expected.total, "unknown bits \(unknown) take space")
            Self.withBuffer(allocated: allocated) { header in
                for (flag, _) in Self.reference {
                    #expect(
                        Self.offset(of: flag, in: header) == expected.offsets[flag],
                        "flag \(flag), allocated \(allocated)"
                    )
                }
            }
        }
    }

    @Test("MessageAttributes lays out every subset the same way", arguments: 0..<128)
    func messageAttributesSubset(subset: Int) {
        let flags = Self.flags(of: subset)
        let expected = Self.expectedLayout(of: flags)
        let attributes = MessageAttributes(flags: AttributeFlags(rawValue: flags))
        #expect(attributes.bufferSize == expected.total)
        #expect(attributes.allocated.rawValue == flags)
        #expect(attributes.valid.isEmpty)
        for (flag, _) in Self.reference {
            let offset = attributes.rawBlob(AttributeFlags(rawValue: flag)).map {
                UnsafeRawPointer(attributes.unsafeRawPointer).distance(to: $0)
            }
            #expect(offset == expected.offsets[flag], "flag \(flag)")
        }
        let typed: [(AttributeFlags, UnsafeMutableRawPointer?)] = [
            (.security, attributes.security?.start), (.view, attributes.view?.start),
            (.context, attributes.context?.start), (.handle, attributes.handle?.start),
            (.token, attributes.token?.start), (.direct, attributes.direct?.start),
            (.workOnBehalf, attributes.workOnBehalf?.start),
        ]
        for (flag, start) in typed {
            #expect(start == attributes.rawBlob(flag), "typed view of \(flag)")
            #expect((start != nil) == attributes.isAllocated(flag))
        }
    }

    @Test("unknown bits contribute nothing to AlpcGetHeaderSize")
    func unknownBitsAlone() {
        #expect(AlpcGetHeaderSize(0) == 8)
        for unknown in Self.unknownBitPatterns {
            #expect(AlpcGetHeaderSize(unknown) == 8)
        }
        #expect(AlpcGetHeaderSize(0xFFFF_FFFF) == 0xA0)
    }

    @Test("AlpcGetMessageAttribute returns NULL for 0, several bits, unknown bits, and non-allocated bits")
    func nullCases() {
        Self.withBuffer(allocated: 0xFFFF_FFFF) { header in
            #expect(AlpcGetMessageAttribute(header, 0) == nil)
            #expect(
                AlpcGetMessageAttribute(header, ALPC_MESSAGE_SECURITY_ATTRIBUTE | ALPC_MESSAGE_VIEW_ATTRIBUTE) == nil
            )
            #expect(AlpcGetMessageAttribute(header, ALPC_MESSAGE_ATTRIBUTE_ALL) == nil)
            #expect(AlpcGetMessageAttribute(header, ALPC_MESSAGE_CONTEXT_ATTRIBUTE | 0x1) == nil)
            for bit in 0..<25 {
                #expect(AlpcGetMessageAttribute(header, UInt32(1) << bit) == nil, "unknown bit \(bit)")
            }
            // The same buffer does give the known attributes.
            #expect(Self.offset(of: ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE, in: header) == 0x98)
        }
        for (flag, _) in Self.reference {
            Self.withBuffer(allocated: 0xFFFF_FFFF & ~flag) { header in
                #expect(AlpcGetMessageAttribute(header, flag) == nil, "flag \(flag) is not allocated")
            }
        }
        #expect(AlpcGetMessageAttribute(nil, ALPC_MESSAGE_VIEW_ATTRIBUTE) == nil)
    }

    @Test("AlpcGetMessageAttribute ignores ValidAttributes")
    func validIsNotConsulted() {
        Self.withBuffer(allocated: ALPC_MESSAGE_CONTEXT_ATTRIBUTE) { header in
            header.pointee.ValidAttributes = 0
            #expect(Self.offset(of: ALPC_MESSAGE_CONTEXT_ATTRIBUTE, in: header) == 8)
            header.pointee.ValidAttributes = 0xFFFF_FFFF
            #expect(Self.offset(of: ALPC_MESSAGE_VIEW_ATTRIBUTE, in: header) == nil)
        }
    }
}
