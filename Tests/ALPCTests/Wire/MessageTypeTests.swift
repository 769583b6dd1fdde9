import ALPC
import Testing

/// `MessageType`: decoding the `Type` field into a kind and flag bits.
@Suite("MessageType")
struct MessageTypeTests {
    @Test("0x2001 is a request that needs a reply")
    func request() {
        let type = MessageType(rawValue: 0x2001)
        #expect(type.kind == .request)
        #expect(type.continuationRequired)
        #expect(!type.reserved && !type.noImpersonate && !type.kernelMode)
        #expect(type.flags == 0x2000)
        #expect(type.description == "0x2001 (LPC_REQUEST, LPC_CONTINUATION_REQUIRED)")
    }

    @Test("0x200a is a connection request")
    func connectionRequest() {
        let type = MessageType(rawValue: 0x200A)
        #expect(type.kind == .connectionRequest)
        #expect(type.continuationRequired && !type.reserved)
        #expect(type.description == "0x200a (LPC_CONNECTION_REQUEST, LPC_CONTINUATION_REQUIRED)")
    }

    @Test("0x300a is a connection request with the reserved bit")
    func connectionRequestReserved() {
        let type = MessageType(rawValue: 0x300A)
        #expect(type.kind == .connectionRequest)
        #expect(type.continuationRequired && type.reserved)
        #expect(!type.noImpersonate && !type.kernelMode)
        #expect(type.flags == 0x3000)
        #expect(type.description == "0x300a (LPC_CONNECTION_REQUEST, LPC_RESERVED_MESSAGE, LPC_CONTINUATION_REQUIRED)")
    }

    @Test("every kind decodes from its value, and unknown values are kept")
    func kinds() {
        let kinds: [MessageType.Kind] = [
            .request, .reply, .datagram, .lostReply, .portClosed, .clientDied, .exception,
            .debugEvent, .errorEvent, .connectionRequest, .internalConnectionReply,
            .cancelMessage, .legacyConnectionReply,
        ]
        for (index, kind) in kinds.enumerated() {
            #expect(MessageType.Kind(rawValue: UInt16(index + 1)) == kind)
            #expect(kind.rawValue == UInt16(index + 1))
        }
        #expect(MessageType.Kind(rawValue: 0) == .unknown(0))
        #expect(MessageType.Kind(rawValue: 14) == .unknown(14))
        #expect(MessageType(rawValue: 0x000E).kind == .unknown(14))
        #expect(MessageType(rawValue: 0x000E).description == "0xe (LPC_TYPE_14)")
        #expect(MessageType.Kind.reply.description == "LPC_REPLY")
    }

    @Test("the kind is the low byte only; the high byte is flags")
    func masks() {
        let type = MessageType(rawValue: 0xC105)
        #expect(type.kind == .portClosed)
        #expect(type.noImpersonate && type.kernelMode && !type.continuationRequired && !type.reserved)
        #expect(type.flags == 0xC100)
        #expect(type.description == "0xc105 (LPC_PORT_CLOSED, LPC_NO_IMPERSONATE, LPC_KERNELMODE_MESSAGE, 0x100)")
    }

    @Test("a type built from a kind and flags")
    func build() {
        #expect(MessageType(.request, continuationRequired: true).rawValue == 0x2001)
        #expect(MessageType(.connectionRequest, continuationRequired: true, reserved: true).rawValue == 0x300A)
        #expect(MessageType(.datagram).rawValue == 3)
        #expect(MessageType(.reply, noImpersonate: true, kernelMode: true).rawValue == 0xC002)
    }
}
