import ALPC
import Testing

/// `AttributeFlags`: values, order, names and description.
@Suite("AttributeFlags")
struct AttributeFlagsTests {
    @Test("the seven attributes have their Windows bits, from the highest down")
    func values() {
        #expect(AttributeFlags.security.rawValue == 0x8000_0000)
        #expect(AttributeFlags.view.rawValue == 0x4000_0000)
        #expect(AttributeFlags.context.rawValue == 0x2000_0000)
        #expect(AttributeFlags.handle.rawValue == 0x1000_0000)
        #expect(AttributeFlags.token.rawValue == 0x0800_0000)
        #expect(AttributeFlags.direct.rawValue == 0x0400_0000)
        #expect(AttributeFlags.workOnBehalf.rawValue == 0x0200_0000)
        #expect(AttributeFlags.all.rawValue == 0xFE00_0000)
        #expect(AttributeFlags.knownAttributes.reduce(into: AttributeFlags()) { $0.formUnion($1) } == .all)
        let raws = AttributeFlags.knownAttributes.map(\.rawValue)
        #expect(raws == raws.sorted(by: >))
        #expect(raws.count == 7)
    }

    @Test("names, components and description")
    func description() {
        #expect(AttributeFlags.context.description == "[ALPC_MESSAGE_CONTEXT_ATTRIBUTE(0x20000000)]")
        #expect(AttributeFlags.workOnBehalf.name == "ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE")
        #expect(AttributeFlags([.view, .token]).name == nil)
        #expect(
            AttributeFlags([.token, .security]).description
                == "[ALPC_MESSAGE_SECURITY_ATTRIBUTE(0x80000000), ALPC_MESSAGE_TOKEN_ATTRIBUTE(0x08000000)]"
        )
        #expect(AttributeFlags().description == "[]")
        #expect(
            AttributeFlags(rawValue: 0x0200_0001).description
                == "[ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE(0x02000000), 0x00000001]"
        )
        #expect(AttributeFlags.all.components == AttributeFlags.knownAttributes)
        #expect(AttributeFlags(rawValue: 0x8000_0003).components.map(\.rawValue) == [0x8000_0000, 2, 1])
    }
}
