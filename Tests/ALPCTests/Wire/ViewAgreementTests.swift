import CALPC
import Testing

@testable import ALPC

/// The Swift views and the C structs agree: every `WireLayout` offset is the C offset, and a
/// value written through one side is read back through the other.
@Suite("Swift views agree with the C structs")
struct ViewAgreementTests {
    static let offsets: [LayoutCheck] = [
        LayoutCheck(
            name: "PORT_MESSAGE size",
            measured: MemoryLayout<PORT_MESSAGE>.size,
            expected: WireLayout.PortMessageHeader.size
        ),
        LayoutCheck(
            name: "PORT_MESSAGE alignment",
            measured: MemoryLayout<PORT_MESSAGE>.alignment,
            expected: WireLayout.PortMessageHeader.alignment
        ),
        .probed(PORT_MESSAGE.self, "DataLength", WireLayout.PortMessageHeader.dataLength, width: 2) {
            $0.u1.s1.DataLength = 0x0201
        },
        .probed(PORT_MESSAGE.self, "TotalLength", WireLayout.PortMessageHeader.totalLength, width: 2) {
            $0.u1.s1.TotalLength = 0x0201
        },
        .probed(PORT_MESSAGE.self, "Length", WireLayout.PortMessageHeader.length, width: 4) {
            $0.u1.Length = 0x0403_0201
        },
        .probed(PORT_MESSAGE.self, "Type", WireLayout.PortMessageHeader.type, width: 2) { $0.u2.s2.Type = 0x0201 },
        .probed(PORT_MESSAGE.self, "DataInfoOffset", WireLayout.PortMessageHeader.dataInfoOffset, width: 2) {
            $0.u2.s2.DataInfoOffset = 0x0201
        },
        .probed(PORT_MESSAGE.self, "ZeroInit", WireLayout.PortMessageHeader.zeroInit, width: 4) {
            $0.u2.ZeroInit = 0x0403_0201
        },
        .probed(PORT_MESSAGE.self, "UniqueProcess", WireLayout.PortMessageHeader.clientIdProcess, width: 8) {
            $0.ClientId.UniqueProcess = probePointer
        },
        .probed(PORT_MESSAGE.self, "UniqueThread", WireLayout.PortMessageHeader.clientIdThread, width: 8) {
            $0.ClientId.UniqueThread = probePointer
        },
        .offset(\PORT_MESSAGE.MessageId, "MessageId", WireLayout.PortMessageHeader.messageId),
        .probed(PORT_MESSAGE.self, "ClientViewSize", WireLayout.PortMessageHeader.clientViewSize, width: 8) {
            $0.ClientViewSize = 0x0807_0605_0403_0201
        },
        .probed(PORT_MESSAGE.self, "CallbackId", WireLayout.PortMessageHeader.callbackId, width: 4) {
            $0.CallbackId = 0x0403_0201
        },

        .size(ALPC_MESSAGE_ATTRIBUTES.self, "ALPC_MESSAGE_ATTRIBUTES", WireLayout.MessageAttributesHeader.size),
        .offset(
            \ALPC_MESSAGE_ATTRIBUTES.AllocatedAttributes,
            "AllocatedAttributes",
            WireLayout.MessageAttributesHeader.allocatedAttributes
        ),
        .offset(
            \ALPC_MESSAGE_ATTRIBUTES.ValidAttributes,
            "ValidAttributes",
            WireLayout.MessageAttributesHeader.validAttributes
        ),

        .size(ALPC_SECURITY_ATTR.self, "ALPC_SECURITY_ATTR", WireLayout.SecurityAttr.size),
        .offset(\ALPC_SECURITY_ATTR.Flags, "ALPC_SECURITY_ATTR.Flags", WireLayout.SecurityAttr.flags),
        .offset(\ALPC_SECURITY_ATTR.QoS, "ALPC_SECURITY_ATTR.QoS", WireLayout.SecurityAttr.qos),
        .offset(
            \ALPC_SECURITY_ATTR.ContextHandle,
            "ALPC_SECURITY_ATTR.ContextHandle",
            WireLayout.SecurityAttr.contextHandle
        ),

        .size(ALPC_DATA_VIEW_ATTR.self, "ALPC_DATA_VIEW_ATTR", WireLayout.DataViewAttr.size),
        .offset(\ALPC_DATA_VIEW_ATTR.Flags, "ALPC_DATA_VIEW_ATTR.Flags", WireLayout.DataViewAttr.flags),
        .offset(
            \ALPC_DATA_VIEW_ATTR.SectionHandle,
            "ALPC_DATA_VIEW_ATTR.SectionHandle",
            WireLayout.DataViewAttr.sectionHandle
        ),
        .offset(\ALPC_DATA_VIEW_ATTR.ViewBase, "ALPC_DATA_VIEW_ATTR.ViewBase", WireLayout.DataViewAttr.viewBase),
        .offset(\ALPC_DATA_VIEW_ATTR.ViewSize, "ALPC_DATA_VIEW_ATTR.ViewSize", WireLayout.DataViewAttr.viewSize),

        .size(ALPC_CONTEXT_ATTR.self, "ALPC_CONTEXT_ATTR", WireLayout.ContextAttr.size),
        .offset(\ALPC_CONTEXT_ATTR.PortContext, "ALPC_CONTEXT_ATTR.PortContext", WireLayout.ContextAttr.portContext),
        .offset(
            \ALPC_CONTEXT_ATTR.MessageContext,
            "ALPC_CONTEXT_ATTR.MessageContext",
            WireLayout.ContextAttr.messageContext
        ),
        .offset(\ALPC_CONTEXT_ATTR.Sequence, "ALPC_CONTEXT_ATTR.Sequence", WireLayout.ContextAttr.sequence),
        .offset(\ALPC_CONTEXT_ATTR.MessageId, "ALPC_CONTEXT_ATTR.MessageId", WireLayout.ContextAttr.messageId),
        .offset(\ALPC_CONTEXT_ATTR.CallbackId, "ALPC_CONTEXT_ATTR.CallbackId", WireLayout.ContextAttr.callbackId),

        .size(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR", WireLayout.HandleAttr.size),
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR.Flags", WireLayout.HandleAttr.flags, width: 4) {
            $0.Flags = 0x0403_0201
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR.Handle", WireLayout.HandleAttr.handle, width: 8) {
            $0.Handle = probePointer
        },
        .probed(
            ALPC_HANDLE_ATTR.self,
            "ALPC_HANDLE_ATTR.HandleAttrArray",
            WireLayout.HandleAttr.handleAttrArray,
            width: 8
        ) {
            $0.HandleAttrArray = probePointer?.assumingMemoryBound(to: ALPC_HANDLE_ATTR32.self)
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR.ObjectType", WireLayout.HandleAttr.objectType, width: 4) {
            $0.ObjectType = 0x0403_0201
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR.HandleCount", WireLayout.HandleAttr.handleCount, width: 4) {
            $0.HandleCount = 0x0403_0201
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR.DesiredAccess", WireLayout.HandleAttr.desiredAccess, width: 4)
        { $0.DesiredAccess = 0x0403_0201 },

        .size(ALPC_TOKEN_ATTR.self, "ALPC_TOKEN_ATTR", WireLayout.TokenAttr.size),
        .offset(\ALPC_TOKEN_ATTR.TokenId, "ALPC_TOKEN_ATTR.TokenId", WireLayout.TokenAttr.tokenId),
        .offset(
            \ALPC_TOKEN_ATTR.AuthenticationId,
            "ALPC_TOKEN_ATTR.AuthenticationId",
            WireLayout.TokenAttr.authenticationId
        ),
        .offset(\ALPC_TOKEN_ATTR.ModifiedId, "ALPC_TOKEN_ATTR.ModifiedId", WireLayout.TokenAttr.modifiedId),

        .size(ALPC_DIRECT_ATTR.self, "ALPC_DIRECT_ATTR", WireLayout.DirectAttr.size),
        .probed(ALPC_DIRECT_ATTR.self, "ALPC_DIRECT_ATTR.Event", WireLayout.DirectAttr.event, width: 8) {
            $0.Event = probePointer
        },

        .size(ALPC_WORK_ON_BEHALF_ATTR.self, "ALPC_WORK_ON_BEHALF_ATTR", WireLayout.WorkOnBehalfAttr.size),
        .probed(
            ALPC_WORK_ON_BEHALF_ATTR.self,
            "ALPC_WORK_ON_BEHALF_ATTR.Ticket",
            WireLayout.WorkOnBehalfAttr.ticket,
            width: 8
        ) { $0.Ticket = 0x0807_0605_0403_0201 },
        .probed(
            ALPC_WORK_ON_BEHALF_ATTR.self,
            "ALPC_WORK_ON_BEHALF_ATTR.ThreadId",
            WireLayout.WorkOnBehalfAttr.threadId,
            width: 4
        ) { $0.ThreadId = 0x0403_0201 },
        .probed(
            ALPC_WORK_ON_BEHALF_ATTR.self,
            "ALPC_WORK_ON_BEHALF_ATTR.ThreadCreationTimeLow",
            WireLayout.WorkOnBehalfAttr.threadCreationTimeLow,
            width: 4
        ) {
            $0.ThreadCreationTimeLow = 0x0403_0201
        },
    ]

    @Test("every WireLayout constant is the C offset", arguments: offsets)
    func wireLayoutOffset(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("the public layout constants")
    func publicConstants() {
        #expect(PortMessageLayout.headerSize == MemoryLayout<PORT_MESSAGE>.size)
        #expect(PortMessageLayout.alignment == MemoryLayout<PORT_MESSAGE>.alignment)
        #expect(AlpcLimits.maxAllowedMessageLength == 0xFFFF)
        #expect(AlpcLimits.maxDataLength == 0xFFFF - 0x28)
        #expect(SecurityAttribute.size == MemoryLayout<ALPC_SECURITY_ATTR>.size)
        #expect(DataViewAttribute.size == MemoryLayout<ALPC_DATA_VIEW_ATTR>.size)
        #expect(ContextAttribute.size == MemoryLayout<ALPC_CONTEXT_ATTR>.size)
        #expect(HandleAttribute.size == MemoryLayout<ALPC_HANDLE_ATTR>.size)
        #expect(TokenAttribute.size == MemoryLayout<ALPC_TOKEN_ATTR>.size)
        #expect(DirectAttribute.size == MemoryLayout<ALPC_DIRECT_ATTR>.size)
        #expect(WorkOnBehalfAttribute.size == MemoryLayout<ALPC_WORK_ON_BEHALF_ATTR>.size)
    }

    @Test("PORT_MESSAGE: written through the view, read through the C struct")
    func portMessageViewToC() {
        var c = PORT_MESSAGE()
        withUnsafeMutableBytes(of: &c) { raw in
            let view = PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count)
            view.dataLength = 0x1234
            view.totalLength = 0x125C
            view.type = 0x300A
            view.dataInfoOffset = 0x0102
            view.clientId = ClientID(process: 0x1111_2222_3333_4444, thread: 0x5555_6666_7777_8888)
            view.messageId = 0xDEAD_BEEF
            view.clientViewSize = 0x0123_4567_89AB_CDEF
        }
        #expect(UInt16(bitPattern: c.u1.s1.DataLength) == 0x1234)
        #expect(UInt16(bitPattern: c.u1.s1.TotalLength) == 0x125C)
        #expect(c.u1.Length == 0x125C_1234)
        #expect(c.u2.s2.Type == 0x300A)
        #expect(c.u2.s2.DataInfoOffset == 0x0102)
        #expect(c.u2.ZeroInit == 0x0102_300A)
        #expect(UInt(bitPattern: c.ClientId.UniqueProcess) == 0x1111_2222_3333_4444)
        #expect(UInt(bitPattern: c.ClientId.UniqueThread) == 0x5555_6666_7777_8888)
        #expect(c.MessageId == 0xDEAD_BEEF)
        #expect(c.ClientViewSize == 0x0123_4567_89AB_CDEF)
        #expect(c.CallbackId == 0x89AB_CDEF)
    }

    @Test("PORT_MESSAGE: written through the C struct, read through the view")
    func portMessageCToView() {
        var c = PORT_MESSAGE()
        c.u1.s1.DataLength = CSHORT(bitPattern: 0xFFD7)
        c.u1.s1.TotalLength = CSHORT(bitPattern: 0xFFFF)
        c.u2.s2.Type = 0x2001
        c.u2.s2.DataInfoOffset = 7
        c.ClientId.UniqueProcess = UnsafeMutableRawPointer(bitPattern: 4242)
        c.ClientId.UniqueThread = UnsafeMutableRawPointer(bitPattern: 4243)
        c.MessageId = 99
        c.CallbackId = 0x0BAD_F00D
        withUnsafeMutableBytes(of: &c) { raw in
            let view = PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count)
            #expect(view.dataLength == 0xFFD7)  // CSHORT read as unsigned
            #expect(view.totalLength == 0xFFFF)
            #expect(view.length == 0xFFFF_FFD7)
            #expect(view.type == 0x2001)
            #expect(view.messageType.kind == .request)
            #expect(view.dataInfoOffset == 7)
            #expect(view.zeroInit == 0x0007_2001)
            #expect(view.clientId == ClientID(process: 4242, thread: 4243))
            #expect(view.messageId == 99)
            #expect(view.callbackId == 0x0BAD_F00D)
            #expect(view.clientViewSize == 0x0BAD_F00D)
        }
    }

    @Test("attribute blobs: written through the views, read through the C structs")
    func attributesViewToC() {
        let attributes = MessageAttributes.withAllAttributes()
        let security = attributes.security!
        security.flags = ALPC_SECFLG_CREATE_HANDLE
        security.qos = 0x7FFD_1000
        security.contextHandle = 0x44
        let view = attributes.view!
        view.flags = ALPC_VIEWFLG_NOT_SECURE
        view.sectionHandle = 0x1C
        view.viewBase = 0x0478_0000
        view.viewSize = 0x4000
        let context = attributes.context!
        context.portContext = 0x1122_3344
        context.messageContext = 0x5566
        context.sequence = 3
        context.messageId = 0x77
        context.callbackId = 0x88
        let handle = attributes.handle!
        handle.flags = ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS
        handle.handle = 0x2CC
        handle.objectType = 1
        handle.desiredAccess = 0x13_019F
        let token = attributes.token!
        token.tokenId = 0x5_C3D1
        token.authenticationId = 0x3E7
        token.modifiedId = 0x5_C3D0
        attributes.direct!.event = 0x1C4
        attributes.workOnBehalf!.ticket = 0x0000_001D_0000_259C

        let s = security.start.loadUnaligned(as: ALPC_SECURITY_ATTR.self)
        #expect(s.Flags == ALPC_SECFLG_CREATE_HANDLE)
        #expect(UInt(bitPattern: s.QoS) == 0x7FFD_1000)
        #expect(UInt(bitPattern: s.ContextHandle) == 0x44)
        let v = view.start.loadUnaligned(as: ALPC_DATA_VIEW_ATTR.self)
        #expect(v.Flags == ALPC_VIEWFLG_NOT_SECURE)
        #expect(UInt(bitPattern: v.SectionHandle) == 0x1C)
        #expect(UInt(bitPattern: v.ViewBase) == 0x0478_0000)
        #expect(v.ViewSize == 0x4000)
        let c = context.start.loadUnaligned(as: ALPC_CONTEXT_ATTR.self)
        #expect(UInt(bitPattern: c.PortContext) == 0x1122_3344)
        #expect(UInt(bitPattern: c.MessageContext) == 0x5566)
        #expect(c.Sequence == 3 && c.MessageId == 0x77 && c.CallbackId == 0x88)
        let h = handle.start.loadUnaligned(as: ALPC_HANDLE_ATTR.self)
        #expect(h.Flags == ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS && h.SameAccess == 1)
        #expect(UInt(bitPattern: h.Handle) == 0x2CC)
        #expect(h.ObjectType == 1 && h.DesiredAccess == 0x13_019F)
        let t = token.start.loadUnaligned(as: ALPC_TOKEN_ATTR.self)
        #expect(t.TokenId == 0x5_C3D1 && t.AuthenticationId == 0x3E7 && t.ModifiedId == 0x5_C3D0)
        let d = attributes.direct!.start.loadUnaligned(as: ALPC_DIRECT_ATTR.self)
        #expect(UInt(bitPattern: d.Event) == 0x1C4)
        let w = attributes.workOnBehalf!.start.loadUnaligned(as: ALPC_WORK_ON_BEHALF_ATTR.self)
        #expect(w.Ticket == 0x0000_001D_0000_259C && w.ThreadId == 0x259C && w.ThreadCreationTimeLow == 0x1D)
    }

    @Test("attribute blobs: written through the C structs, read through the views")
    func attributesCToView() {
        let attributes = MessageAttributes.withAllAttributes()

        var s = ALPC_SECURITY_ATTR()
        s.Flags = ALPC_SECFLG_DELETE_EXISTING
        s.QoS = UnsafeMutablePointer(bitPattern: 0x1000)
        s.ContextHandle = UnsafeMutableRawPointer(bitPattern: 0x2000)
        attributes.security!.start.storeBytes(of: s, as: ALPC_SECURITY_ATTR.self)
        #expect(attributes.security!.flags == ALPC_SECFLG_DELETE_EXISTING)
        #expect(attributes.security!.qos == 0x1000)
        #expect(attributes.security!.qosAddress == UnsafeMutableRawPointer(bitPattern: 0x1000))
        #expect(attributes.security!.contextHandle == 0x2000)

        var v = ALPC_DATA_VIEW_ATTR()
        v.Flags = ALPC_VIEWFLG_AUTO_RELEASE
        v.SectionHandle = UnsafeMutableRawPointer(bitPattern: 0x30)
        v.ViewBase = UnsafeMutableRawPointer(bitPattern: 0x7F00_0000_0000)
        v.ViewSize = 0x8000
        attributes.view!.start.storeBytes(of: v, as: ALPC_DATA_VIEW_ATTR.self)
        #expect(attributes.view!.flags == ALPC_VIEWFLG_AUTO_RELEASE)
        #expect(attributes.view!.sectionHandle == 0x30)
        #expect(attributes.view!.viewBase == 0x7F00_0000_0000)
        #expect(attributes.view!.viewBaseAddress == v.ViewBase)
        #expect(attributes.view!.viewSize == 0x8000)

        var c = ALPC_CONTEXT_ATTR()
        c.PortContext = UnsafeMutableRawPointer(bitPattern: 0xAA)
        c.MessageContext = UnsafeMutableRawPointer(bitPattern: 0xBB)
        c.Sequence = 1
        c.MessageId = 2
        c.CallbackId = 3
        attributes.context!.start.storeBytes(of: c, as: ALPC_CONTEXT_ATTR.self)
        let context = attributes.context!
        #expect(context.portContext == 0xAA && context.messageContext == 0xBB)
        #expect(context.sequence == 1 && context.messageId == 2 && context.callbackId == 3)

        var h = ALPC_HANDLE_ATTR()
        h.Indirect = 1
        h.HandleAttrArray = UnsafeMutablePointer(bitPattern: 0x5000)
        h.HandleCount = 2
        h.GrantedAccess = 0x1F
        attributes.handle!.start.storeBytes(of: h, as: ALPC_HANDLE_ATTR.self)
        let handle = attributes.handle!
        #expect(handle.isIndirect && handle.flags == ALPC_HANDLEFLG_INDIRECT)
        #expect(handle.handleAttrArray == 0x5000 && handle.handle == 0x5000)
        #expect(handle.handleAttrArrayAddress == UnsafeMutableRawPointer(bitPattern: 0x5000))
        #expect(handle.handleCount == 2 && handle.objectType == 2)
        #expect(handle.desiredAccess == 0x1F)

        var t = ALPC_TOKEN_ATTR()
        t.TokenId = 10
        t.AuthenticationId = 20
        t.ModifiedId = 30
        attributes.token!.start.storeBytes(of: t, as: ALPC_TOKEN_ATTR.self)
        #expect(
            attributes.token!.tokenId == 10 && attributes.token!.authenticationId == 20
                && attributes.token!.modifiedId == 30
        )

        var d = ALPC_DIRECT_ATTR()
        d.EventHandle = UnsafeMutableRawPointer(bitPattern: 0x99)
        attributes.direct!.start.storeBytes(of: d, as: ALPC_DIRECT_ATTR.self)
        #expect(attributes.direct!.event == 0x99)

        var w = ALPC_WORK_ON_BEHALF_ATTR()
        w.ThreadId = 0x1234
        w.ThreadCreationTimeLow = 0x5678
        attributes.workOnBehalf!.start.storeBytes(of: w, as: ALPC_WORK_ON_BEHALF_ATTR.self)
        #expect(attributes.workOnBehalf!.ticket == 0x0000_5678_0000_1234)
        #expect(attributes.workOnBehalf!.threadId == 0x1234 && attributes.workOnBehalf!.threadCreationTimeLow == 0x5678)
    }
}
