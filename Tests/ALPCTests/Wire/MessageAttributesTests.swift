import ALPC
import CALPC
import Testing

/// `MessageAttributes` and the attribute views' descriptions.
@Suite("MessageAttributes")
struct MessageAttributesTests {
    @Test("a buffer with all attributes")
    func allAttributes() {
        let attributes = MessageAttributes.withAllAttributes()
        #expect(attributes.bufferSize == 0xA0)
        #expect(attributes.allocated == .all)
        #expect(attributes.valid == [])
        #expect(Int(bitPattern: attributes.unsafeRawPointer) % 8 == 0)
        #expect(attributes.isAllocated(.all) && attributes.isAllocated([.view, .token]))
        let header = attributes.unsafeRawPointer.load(as: ALPC_MESSAGE_ATTRIBUTES.self)
        #expect(header.AllocatedAttributes == 0xFE00_0000 && header.ValidAttributes == 0)
        let blobs = attributes.withUnsafeMutableRawBuffer { Array($0[8...]) }
        #expect(blobs.count == 0x98 && blobs.allSatisfy { $0 == 0 }, "blobs start zeroed")
    }

    @Test("valid bits: set, clear, test")
    func validBits() {
        let attributes = MessageAttributes.with([.view, .context, .handle])
        #expect(attributes.bufferSize == 8 + 0x20 + 0x20 + 0x18)
        attributes.setValid(.view, true)
        attributes.setValid([.context, .handle], true)
        #expect(attributes.valid == [.view, .context, .handle])
        attributes.setValid(.context, false)
        #expect(attributes.isValid(.view) && !attributes.isValid(.context))
        #expect(!attributes.isValid([.view, .context]))
        #expect(attributes.unsafeRawPointer.load(fromByteOffset: 4, as: UInt32.self) == 0x5000_0000)
        attributes.valid = []
        #expect(attributes.unsafeRawPointer.load(fromByteOffset: 4, as: UInt32.self) == 0)
        #expect(!attributes.isAllocated(.security) && attributes.isAllocated(.handle))
    }

    @Test("rawBlob is nil for several bits, for unknown bits, and for a blob not allocated")
    func rawBlobNil() {
        let attributes = MessageAttributes.withAllAttributes()
        #expect(attributes.rawBlob([]) == nil)
        #expect(attributes.rawBlob([.view, .context]) == nil)
        #expect(attributes.rawBlob(.all) == nil)
        #expect(attributes.rawBlob(AttributeFlags(rawValue: 0x0100_0000)) == nil)
        #expect(attributes.rawBlob(.view) == attributes.unsafeRawPointer + 0x20)
        let some = MessageAttributes.with(.token)
        #expect(some.rawBlob(.view) == nil && some.view == nil)
        #expect(some.rawBlob(.token) == some.unsafeRawPointer + 8)
    }

    @Test("rawBlob never points outside the buffer, even if AllocatedAttributes is overwritten")
    func rawBlobBounded() {
        let attributes = MessageAttributes.with(.workOnBehalf)
        #expect(attributes.bufferSize == 0x10)
        #expect(attributes.workOnBehalf?.start == attributes.unsafeRawPointer + 8)
        // Claim all seven blobs in a buffer that holds one: the C helper would point at 0x98.
        attributes.unsafeRawPointer.storeBytes(of: UInt32(0xFE00_0000), as: UInt32.self)
        #expect(attributes.allocated == .all)
        #expect(attributes.rawBlob(.workOnBehalf) == nil)
        #expect(attributes.workOnBehalf == nil)
        #expect(attributes.rawBlob(.security) == nil, "a 0x18 blob at 8 does not fit in 0x10 bytes")

        let security = MessageAttributes.with(.security)
        security.unsafeRawPointer.storeBytes(of: UInt32(0xFE00_0000), as: UInt32.self)
        #expect(security.rawBlob(.security) == security.unsafeRawPointer + 8, "the first blob still fits")
        #expect(security.rawBlob(.view) == nil)
        #expect(security.context == nil && security.direct == nil)
    }

    @Test("unknown bits are kept in AllocatedAttributes but take no space")
    func unknownBits() {
        let attributes = MessageAttributes(flags: AttributeFlags(rawValue: 0x2000_0001))
        #expect(attributes.bufferSize == 0x28)
        #expect(attributes.allocated.rawValue == 0x2000_0001)
        #expect(attributes.context?.start == attributes.unsafeRawPointer + 8)
    }

    @Test("attribute views print like PythonForWindows' structs")
    func descriptions() {
        let attributes = MessageAttributes.withAllAttributes()
        let handle = attributes.handle!
        handle.handle = 0x2CC
        handle.objectType = 1
        handle.desiredAccess = 0x13_019F
        #expect(handle.description == "{Flags 0, Handle 0x2cc, ObjectType 1, DesiredAccess 0x13019f}")
        handle.flags = ALPC_HANDLEFLG_INDIRECT
        handle.handleCount = 2
        #expect(handle.description == "{Flags 0x40000, HandleAttrArray 0x2cc, HandleCount 2, DesiredAccess 0x13019f}")

        let context = attributes.context!
        context.portContext = 0x1122_3344
        context.sequence = 1
        #expect(
            context.description
                == "{PortContext 0x11223344, MessageContext None, Sequence 1, MessageId 0, CallbackId 0}"
        )

        let view = attributes.view!
        view.viewBase = 0x478_0000
        view.viewSize = 0x4000
        #expect(view.description == "{Flags 0, SectionHandle None, ViewBase 0x4780000, ViewSize 0x4000}")

        #expect(attributes.security!.description == "{Flags 0, QoS None, ContextHandle None}")
        attributes.token!.tokenId = 0x5_C3D1
        attributes.token!.authenticationId = 0x3E7
        #expect(attributes.token!.description == "{TokenId 0x5c3d1, AuthenticationId 0x3e7, ModifiedId 0x0}")
        #expect(attributes.direct!.description == "{Event None}")
        attributes.workOnBehalf!.ticket = 0x1D_0000_259C
        #expect(attributes.workOnBehalf!.description == "{Ticket 0x1d0000259c}")
        #expect(ClientID(process: 12, thread: 34).description == "{UniqueProcess 12, UniqueThread 34}")
    }

    @Test("pointer conveniences convert to and from the 64-bit fields")
    func pointerConveniences() {
        let attributes = MessageAttributes.withAllAttributes()
        let view = attributes.view!
        #expect(view.viewBaseAddress == nil)
        let address = UnsafeMutableRawPointer(bitPattern: 0x7F12_3456_7000)
        view.viewBaseAddress = address
        #expect(view.viewBase == 0x7F12_3456_7000 && view.viewBaseAddress == address)
        attributes.security!.qosAddress = address
        #expect(attributes.security!.qos == 0x7F12_3456_7000)
        attributes.handle!.handleAttrArrayAddress = address
        #expect(attributes.handle!.handleAttrArray == 0x7F12_3456_7000)
        view.viewBaseAddress = nil
        #expect(view.viewBase == 0)
    }
}
