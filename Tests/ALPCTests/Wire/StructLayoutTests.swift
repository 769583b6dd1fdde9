import CALPC
import Testing

/// The Swift side of every `_Static_assert` in ntalpc.h: the structs imported from C have
/// the reference's x64 sizes and offsets in Swift too.
@Suite("C struct layout as Swift sees it")
struct StructLayoutTests {
    static let baseTypes: [LayoutCheck] = [
        LayoutCheck(name: "sizeof(void *)", measured: MemoryLayout<UnsafeRawPointer>.size, expected: 8),
        .size(ULONG.self, "ULONG", 4),
        .size(CSHORT.self, "CSHORT", 2),
        .size(WCHAR.self, "WCHAR (the platform's wchar_t: no WCHAR crosses the wire)", MemoryLayout<wchar_t>.size),
        .size(HANDLE?.self, "HANDLE", 8),
        .size(SIZE_T.self, "SIZE_T", 8),
        .size(NTSTATUS.self, "NTSTATUS", 4),
        .size(LARGE_INTEGER.self, "LARGE_INTEGER", 8),
        .size(CLIENT_ID.self, "CLIENT_ID", 16),
        .size(UNICODE_STRING.self, "UNICODE_STRING", 16),
        .offset(\UNICODE_STRING.Buffer, "UNICODE_STRING, Buffer", 8),
        .size(SECURITY_IMPERSONATION_LEVEL.self, "SECURITY_IMPERSONATION_LEVEL", 4),
    ]

    static let portMessage: [LayoutCheck] = [
        .size(PORT_MESSAGE.self, "PORT_MESSAGE", 0x28),
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u1.s1.DataLength", 0x00, width: 2) { $0.u1.s1.DataLength = 0x0201 },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u1.s1.TotalLength", 0x02, width: 2) { $0.u1.s1.TotalLength = 0x0201 },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u1.Length", 0x00, width: 4) { $0.u1.Length = 0x0403_0201 },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u2.s2.Type", 0x04, width: 2) { $0.u2.s2.Type = 0x0201 },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u2.s2.DataInfoOffset", 0x06, width: 2) {
            $0.u2.s2.DataInfoOffset = 0x0201
        },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, u2.ZeroInit", 0x04, width: 4) { $0.u2.ZeroInit = 0x0403_0201 },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, ClientId.UniqueProcess", 0x08, width: 8) {
            $0.ClientId.UniqueProcess = probePointer
        },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, ClientId.UniqueThread", 0x10, width: 8) {
            $0.ClientId.UniqueThread = probePointer
        },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, DoNotUseThisField", 0x08, width: 8) {
            $0.DoNotUseThisField = Double(bitPattern: 0x0807_0605_0403_0201)
        },
        .offset(\PORT_MESSAGE.MessageId, "PORT_MESSAGE, MessageId", 0x18),
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, ClientViewSize", 0x20, width: 8) {
            $0.ClientViewSize = 0x0807_0605_0403_0201
        },
        .probed(PORT_MESSAGE.self, "PORT_MESSAGE, CallbackId", 0x20, width: 4) { $0.CallbackId = 0x0403_0201 },
    ]

    static let portAttributes: [LayoutCheck] = [
        .size(SECURITY_QUALITY_OF_SERVICE.self, "SECURITY_QUALITY_OF_SERVICE", 12),
        .offset(\SECURITY_QUALITY_OF_SERVICE.Length, "SECURITY_QUALITY_OF_SERVICE, Length", 0),
        .offset(\SECURITY_QUALITY_OF_SERVICE.ImpersonationLevel, "SECURITY_QUALITY_OF_SERVICE, ImpersonationLevel", 4),
        .offset(
            \SECURITY_QUALITY_OF_SERVICE.ContextTrackingMode,
            "SECURITY_QUALITY_OF_SERVICE, ContextTrackingMode",
            8
        ),
        .offset(\SECURITY_QUALITY_OF_SERVICE.EffectiveOnly, "SECURITY_QUALITY_OF_SERVICE, EffectiveOnly", 9),

        .size(ALPC_PORT_ATTRIBUTES.self, "ALPC_PORT_ATTRIBUTES", 0x48),
        .offset(\ALPC_PORT_ATTRIBUTES.Flags, "ALPC_PORT_ATTRIBUTES, Flags", 0x00),
        .offset(\ALPC_PORT_ATTRIBUTES.SecurityQos, "ALPC_PORT_ATTRIBUTES, SecurityQos", 0x04),
        .offset(\ALPC_PORT_ATTRIBUTES.MaxMessageLength, "ALPC_PORT_ATTRIBUTES, MaxMessageLength", 0x10),
        .offset(\ALPC_PORT_ATTRIBUTES.MemoryBandwidth, "ALPC_PORT_ATTRIBUTES, MemoryBandwidth", 0x18),
        .offset(\ALPC_PORT_ATTRIBUTES.MaxPoolUsage, "ALPC_PORT_ATTRIBUTES, MaxPoolUsage", 0x20),
        .offset(\ALPC_PORT_ATTRIBUTES.MaxSectionSize, "ALPC_PORT_ATTRIBUTES, MaxSectionSize", 0x28),
        .offset(\ALPC_PORT_ATTRIBUTES.MaxViewSize, "ALPC_PORT_ATTRIBUTES, MaxViewSize", 0x30),
        .offset(\ALPC_PORT_ATTRIBUTES.MaxTotalSectionSize, "ALPC_PORT_ATTRIBUTES, MaxTotalSectionSize", 0x38),
        .offset(\ALPC_PORT_ATTRIBUTES.DupObjectTypes, "ALPC_PORT_ATTRIBUTES, DupObjectTypes", 0x40),
        .offset(\ALPC_PORT_ATTRIBUTES.Reserved, "ALPC_PORT_ATTRIBUTES, Reserved", 0x44),

        .size(ALPC_MESSAGE_ATTRIBUTES.self, "ALPC_MESSAGE_ATTRIBUTES", 8),
        .offset(\ALPC_MESSAGE_ATTRIBUTES.AllocatedAttributes, "ALPC_MESSAGE_ATTRIBUTES, AllocatedAttributes", 0),
        .offset(\ALPC_MESSAGE_ATTRIBUTES.ValidAttributes, "ALPC_MESSAGE_ATTRIBUTES, ValidAttributes", 4),
    ]

    static let attributeBlobs: [LayoutCheck] = [
        .size(ALPC_SECURITY_ATTR.self, "ALPC_SECURITY_ATTR", 0x18),
        .offset(\ALPC_SECURITY_ATTR.Flags, "ALPC_SECURITY_ATTR, Flags", 0x00),
        .offset(\ALPC_SECURITY_ATTR.QoS, "ALPC_SECURITY_ATTR, QoS", 0x08),
        .offset(\ALPC_SECURITY_ATTR.ContextHandle, "ALPC_SECURITY_ATTR, ContextHandle", 0x10),

        .size(ALPC_DATA_VIEW_ATTR.self, "ALPC_DATA_VIEW_ATTR", 0x20),
        .offset(\ALPC_DATA_VIEW_ATTR.Flags, "ALPC_DATA_VIEW_ATTR, Flags", 0x00),
        .offset(\ALPC_DATA_VIEW_ATTR.SectionHandle, "ALPC_DATA_VIEW_ATTR, SectionHandle", 0x08),
        .offset(\ALPC_DATA_VIEW_ATTR.ViewBase, "ALPC_DATA_VIEW_ATTR, ViewBase", 0x10),
        .offset(\ALPC_DATA_VIEW_ATTR.ViewSize, "ALPC_DATA_VIEW_ATTR, ViewSize", 0x18),

        .size(ALPC_CONTEXT_ATTR.self, "ALPC_CONTEXT_ATTR", 0x20),
        .offset(\ALPC_CONTEXT_ATTR.PortContext, "ALPC_CONTEXT_ATTR, PortContext", 0x00),
        .offset(\ALPC_CONTEXT_ATTR.MessageContext, "ALPC_CONTEXT_ATTR, MessageContext", 0x08),
        .offset(\ALPC_CONTEXT_ATTR.Sequence, "ALPC_CONTEXT_ATTR, Sequence", 0x10),
        .offset(\ALPC_CONTEXT_ATTR.MessageId, "ALPC_CONTEXT_ATTR, MessageId", 0x14),
        .offset(\ALPC_CONTEXT_ATTR.CallbackId, "ALPC_CONTEXT_ATTR, CallbackId", 0x18),

        .size(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR", 0x18),
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, Flags", 0x00, width: 4) { $0.Flags = 0x0403_0201 },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, Handle", 0x08, width: 8) { $0.Handle = probePointer },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, HandleAttrArray", 0x08, width: 8) {
            $0.HandleAttrArray = probePointer?.assumingMemoryBound(to: ALPC_HANDLE_ATTR32.self)
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, ObjectType", 0x10, width: 4) { $0.ObjectType = 0x0403_0201 },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, HandleCount", 0x10, width: 4) {
            $0.HandleCount = 0x0403_0201
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, DesiredAccess", 0x14, width: 4) {
            $0.DesiredAccess = 0x0403_0201
        },
        .probed(ALPC_HANDLE_ATTR.self, "ALPC_HANDLE_ATTR, GrantedAccess", 0x14, width: 4) {
            $0.GrantedAccess = 0x0403_0201
        },

        .size(ALPC_HANDLE_ATTR32.self, "ALPC_HANDLE_ATTR32", 0x10),
        .offset(\ALPC_HANDLE_ATTR32.Flags, "ALPC_HANDLE_ATTR32, Flags", 0x0),
        .offset(\ALPC_HANDLE_ATTR32.Handle, "ALPC_HANDLE_ATTR32, Handle", 0x4),
        .offset(\ALPC_HANDLE_ATTR32.ObjectType, "ALPC_HANDLE_ATTR32, ObjectType", 0x8),
        .offset(\ALPC_HANDLE_ATTR32.DesiredAccess, "ALPC_HANDLE_ATTR32, DesiredAccess", 0xC),

        .size(ALPC_TOKEN_ATTR.self, "ALPC_TOKEN_ATTR", 0x18),
        .offset(\ALPC_TOKEN_ATTR.TokenId, "ALPC_TOKEN_ATTR, TokenId", 0x00),
        .offset(\ALPC_TOKEN_ATTR.AuthenticationId, "ALPC_TOKEN_ATTR, AuthenticationId", 0x08),
        .offset(\ALPC_TOKEN_ATTR.ModifiedId, "ALPC_TOKEN_ATTR, ModifiedId", 0x10),

        .size(ALPC_DIRECT_ATTR.self, "ALPC_DIRECT_ATTR", 0x08),
        .probed(ALPC_DIRECT_ATTR.self, "ALPC_DIRECT_ATTR, EventHandle", 0x00, width: 8) {
            $0.EventHandle = probePointer
        },
        .probed(ALPC_DIRECT_ATTR.self, "ALPC_DIRECT_ATTR, Event", 0x00, width: 8) { $0.Event = probePointer },

        .size(ALPC_WORK_ON_BEHALF_ATTR.self, "ALPC_WORK_ON_BEHALF_ATTR", 0x08),
        .probed(ALPC_WORK_ON_BEHALF_ATTR.self, "ALPC_WORK_ON_BEHALF_ATTR, Ticket", 0x00, width: 8) {
            $0.Ticket = 0x0807_0605_0403_0201
        },
        .probed(ALPC_WORK_ON_BEHALF_ATTR.self, "ALPC_WORK_ON_BEHALF_ATTR, ThreadId", 0x00, width: 4) {
            $0.ThreadId = 0x0403_0201
        },
        .probed(ALPC_WORK_ON_BEHALF_ATTR.self, "ALPC_WORK_ON_BEHALF_ATTR, ThreadCreationTimeLow", 0x04, width: 4) {
            $0.ThreadCreationTimeLow = 0x0403_0201
        },
    ]

    /// Section 2.5: the blob offsets with all seven attributes allocated, and the total.
    static let blobOffsetsWithAll: [LayoutCheck] = {
        let sizes = [
            MemoryLayout<ALPC_SECURITY_ATTR>.size, MemoryLayout<ALPC_DATA_VIEW_ATTR>.size,
            MemoryLayout<ALPC_CONTEXT_ATTR>.size, MemoryLayout<ALPC_HANDLE_ATTR>.size,
            MemoryLayout<ALPC_TOKEN_ATTR>.size, MemoryLayout<ALPC_DIRECT_ATTR>.size,
            MemoryLayout<ALPC_WORK_ON_BEHALF_ATTR>.size,
        ]
        let names = ["VIEW", "CONTEXT", "HANDLE", "TOKEN", "DIRECT", "WORK_ON_BEHALF", "TOTAL_ALL"]
        let expected = [0x20, 0x40, 0x60, 0x78, 0x90, 0x98, 0xA0]
        var offset = 0x08
        var checks: [LayoutCheck] = []
        for index in 0..<7 {
            offset += sizes[index]
            checks.append(
                LayoutCheck(name: "ALPC_BLOB_OFFSET_\(names[index])", measured: offset, expected: expected[index])
            )
        }
        return checks
    }()

    static let informationStructs: [LayoutCheck] = [
        .size(ALPC_BASIC_INFORMATION.self, "ALPC_BASIC_INFORMATION", 0x10),
        .offset(\ALPC_BASIC_INFORMATION.Flags, "ALPC_BASIC_INFORMATION, Flags", 0x0),
        .offset(\ALPC_BASIC_INFORMATION.SequenceNo, "ALPC_BASIC_INFORMATION, SequenceNo", 0x4),
        .offset(\ALPC_BASIC_INFORMATION.PortContext, "ALPC_BASIC_INFORMATION, PortContext", 0x8),

        .size(ALPC_PORT_ASSOCIATE_COMPLETION_PORT.self, "ALPC_PORT_ASSOCIATE_COMPLETION_PORT", 0x10),
        .offset(
            \ALPC_PORT_ASSOCIATE_COMPLETION_PORT.CompletionKey,
            "ALPC_PORT_ASSOCIATE_COMPLETION_PORT, CompletionKey",
            0x0
        ),
        .offset(
            \ALPC_PORT_ASSOCIATE_COMPLETION_PORT.CompletionPort,
            "ALPC_PORT_ASSOCIATE_COMPLETION_PORT, CompletionPort",
            0x8
        ),

        .size(ALPC_SERVER_INFORMATION.self, "ALPC_SERVER_INFORMATION", 0x20),
        .probed(ALPC_SERVER_INFORMATION.self, "ALPC_SERVER_INFORMATION, In.ThreadHandle", 0x0, width: 8) {
            $0.In.ThreadHandle = probePointer
        },
        .probed(ALPC_SERVER_INFORMATION.self, "ALPC_SERVER_INFORMATION, Out.ThreadBlocked", 0x0, width: 1) {
            $0.Out.ThreadBlocked = 0x01
        },
        .probed(ALPC_SERVER_INFORMATION.self, "ALPC_SERVER_INFORMATION, Out.ConnectedProcessId", 0x8, width: 8) {
            $0.Out.ConnectedProcessId = probePointer
        },
        .probed(ALPC_SERVER_INFORMATION.self, "ALPC_SERVER_INFORMATION, Out.ConnectionPortName", 0x10, width: 2) {
            $0.Out.ConnectionPortName.Length = 0x0201
        },

        .size(ALPC_PORT_MESSAGE_ZONE_INFORMATION.self, "ALPC_PORT_MESSAGE_ZONE_INFORMATION", 0x10),
        .offset(\ALPC_PORT_MESSAGE_ZONE_INFORMATION.Buffer, "ALPC_PORT_MESSAGE_ZONE_INFORMATION, Buffer", 0x0),
        .offset(\ALPC_PORT_MESSAGE_ZONE_INFORMATION.Size, "ALPC_PORT_MESSAGE_ZONE_INFORMATION, Size", 0x8),

        .size(ALPC_PORT_COMPLETION_LIST_INFORMATION.self, "ALPC_PORT_COMPLETION_LIST_INFORMATION", 0x18),
        .offset(\ALPC_PORT_COMPLETION_LIST_INFORMATION.Buffer, "ALPC_PORT_COMPLETION_LIST_INFORMATION, Buffer", 0x0),
        .offset(\ALPC_PORT_COMPLETION_LIST_INFORMATION.Size, "ALPC_PORT_COMPLETION_LIST_INFORMATION, Size", 0x8),
        .offset(
            \ALPC_PORT_COMPLETION_LIST_INFORMATION.ConcurrencyCount,
            "ALPC_PORT_COMPLETION_LIST_INFORMATION, ConcurrencyCount",
            0xC
        ),
        .offset(
            \ALPC_PORT_COMPLETION_LIST_INFORMATION.AttributeFlags,
            "ALPC_PORT_COMPLETION_LIST_INFORMATION, AttributeFlags",
            0x10
        ),

        .size(ALPC_SERVER_SESSION_INFORMATION.self, "ALPC_SERVER_SESSION_INFORMATION", 0x8),
        .offset(\ALPC_SERVER_SESSION_INFORMATION.SessionId, "ALPC_SERVER_SESSION_INFORMATION, SessionId", 0x0),
        .offset(\ALPC_SERVER_SESSION_INFORMATION.ProcessId, "ALPC_SERVER_SESSION_INFORMATION, ProcessId", 0x4),

        .size(ALPC_MESSAGE_HANDLE_INFORMATION.self, "ALPC_MESSAGE_HANDLE_INFORMATION", 0x14),
        .offset(\ALPC_MESSAGE_HANDLE_INFORMATION.Index, "ALPC_MESSAGE_HANDLE_INFORMATION, Index", 0x0),
        .offset(\ALPC_MESSAGE_HANDLE_INFORMATION.Flags, "ALPC_MESSAGE_HANDLE_INFORMATION, Flags", 0x4),
        .offset(\ALPC_MESSAGE_HANDLE_INFORMATION.Handle, "ALPC_MESSAGE_HANDLE_INFORMATION, Handle", 0x8),
        .offset(\ALPC_MESSAGE_HANDLE_INFORMATION.ObjectType, "ALPC_MESSAGE_HANDLE_INFORMATION, ObjectType", 0xC),
        .offset(\ALPC_MESSAGE_HANDLE_INFORMATION.GrantedAccess, "ALPC_MESSAGE_HANDLE_INFORMATION, GrantedAccess", 0x10),

        .size(ALPC_COMPLETION_LIST_HEADER.self, "ALPC_COMPLETION_LIST_HEADER", 0x300),
        .offset(\ALPC_COMPLETION_LIST_HEADER.StartMagic, "ALPC_COMPLETION_LIST_HEADER, StartMagic", 0x00),
        .offset(\ALPC_COMPLETION_LIST_HEADER.TotalSize, "ALPC_COMPLETION_LIST_HEADER, TotalSize", 0x08),
        .offset(\ALPC_COMPLETION_LIST_HEADER.AttributeSize, "ALPC_COMPLETION_LIST_HEADER, AttributeSize", 0x28),
        .offset(\ALPC_COMPLETION_LIST_HEADER.State, "ALPC_COMPLETION_LIST_HEADER, State", 0x80),
        .offset(\ALPC_COMPLETION_LIST_HEADER.LastMessageId, "ALPC_COMPLETION_LIST_HEADER, LastMessageId", 0x88),
        .offset(\ALPC_COMPLETION_LIST_HEADER.LastCallbackId, "ALPC_COMPLETION_LIST_HEADER, LastCallbackId", 0x8C),
        .offset(\ALPC_COMPLETION_LIST_HEADER.PostCount, "ALPC_COMPLETION_LIST_HEADER, PostCount", 0x100),
        .offset(\ALPC_COMPLETION_LIST_HEADER.ReturnCount, "ALPC_COMPLETION_LIST_HEADER, ReturnCount", 0x180),
        .offset(
            \ALPC_COMPLETION_LIST_HEADER.LogSequenceNumber,
            "ALPC_COMPLETION_LIST_HEADER, LogSequenceNumber",
            0x200
        ),
        .offset(\ALPC_COMPLETION_LIST_HEADER.UserLock, "ALPC_COMPLETION_LIST_HEADER, UserLock", 0x280),
        .offset(\ALPC_COMPLETION_LIST_HEADER.EndMagic, "ALPC_COMPLETION_LIST_HEADER, EndMagic", 0x288),

        .size(PORT_VIEW.self, "PORT_VIEW", 0x30),
        .offset(\PORT_VIEW.Length, "PORT_VIEW, Length", 0x00),
        .offset(\PORT_VIEW.SectionHandle, "PORT_VIEW, SectionHandle", 0x08),
        .offset(\PORT_VIEW.SectionOffset, "PORT_VIEW, SectionOffset", 0x10),
        .offset(\PORT_VIEW.ViewSize, "PORT_VIEW, ViewSize", 0x18),
        .offset(\PORT_VIEW.ViewBase, "PORT_VIEW, ViewBase", 0x20),
        .offset(\PORT_VIEW.ViewRemoteBase, "PORT_VIEW, ViewRemoteBase", 0x28),

        .size(REMOTE_PORT_VIEW.self, "REMOTE_PORT_VIEW", 0x18),
        .offset(\REMOTE_PORT_VIEW.Length, "REMOTE_PORT_VIEW, Length", 0x00),
        .offset(\REMOTE_PORT_VIEW.ViewSize, "REMOTE_PORT_VIEW, ViewSize", 0x08),
        .offset(\REMOTE_PORT_VIEW.ViewBase, "REMOTE_PORT_VIEW, ViewBase", 0x10),

        .size(LPC_CLIENT_DIED_MSG.self, "LPC_CLIENT_DIED_MSG", 0x30),
        .offset(\LPC_CLIENT_DIED_MSG.CreateTime, "LPC_CLIENT_DIED_MSG, CreateTime", 0x28),

        .size(PORT_DATA_ENTRY.self, "PORT_DATA_ENTRY", 0x10),
        .offset(\PORT_DATA_ENTRY.Base, "PORT_DATA_ENTRY, Base", 0x0),
        .offset(\PORT_DATA_ENTRY.Size, "PORT_DATA_ENTRY, Size", 0x8),
        .offset(\PORT_DATA_INFORMATION.DataEntries, "PORT_DATA_INFORMATION, DataEntries", 0x8),
    ]

    @Test("NT base types have their Windows widths", arguments: baseTypes)
    func baseType(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("PORT_MESSAGE (2.1)", arguments: portMessage)
    func portMessageField(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("QoS, port attributes and message attributes (2.2-2.4)", arguments: portAttributes)
    func portAttributesField(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("attribute blobs (2.5, 2.6)", arguments: attributeBlobs)
    func attributeBlobField(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("blob offsets with all seven attributes (2.5)", arguments: blobOffsetsWithAll)
    func blobOffsetWithAll(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("information and legacy structs (2.7)", arguments: informationStructs)
    func informationField(_ check: LayoutCheck) {
        #expect(check.measured == check.expected)
    }

    @Test("the handle attribute's flag bitfields are the ALPC_HANDLEFLG_* bits of Flags")
    func handleAttributeBitfields() {
        var attribute = ALPC_HANDLE_ATTR()
        attribute.SameAccess = 1
        #expect(attribute.Flags == ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS)
        attribute.SameAttributes = 1
        attribute.Indirect = 1
        attribute.Inherit = 1
        #expect(
            attribute.Flags
                == ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS | ALPC_HANDLEFLG_DUPLICATE_SAME_ATTRIBUTES
                | ALPC_HANDLEFLG_INDIRECT | ALPC_HANDLEFLG_DUPLICATE_INHERIT
        )
        attribute.Flags = 0xFFFF
        #expect(attribute.Reserved0 == 0xFFFF && attribute.Indirect == 0)
    }

    @Test("derived constants (2.9)")
    func derivedConstants() {
        // PORT_TOTAL_MAXIMUM_MESSAGE_LENGTH is too complex a macro for Swift to import:
        // recompute it from the parts that do import.
        let total = (PORT_MAXIMUM_MESSAGE_LENGTH + 0x28 + LPC_MAX_CONNECTION_INFO_SIZE + 15) & ~15
        #expect(total == 0x2B0)
        #expect(
            ALPC_MESSAGE_ATTRIBUTE_ALL
                == ALPC_MESSAGE_SECURITY_ATTRIBUTE | ALPC_MESSAGE_VIEW_ATTRIBUTE | ALPC_MESSAGE_CONTEXT_ATTRIBUTE
                | ALPC_MESSAGE_HANDLE_ATTRIBUTE | ALPC_MESSAGE_TOKEN_ATTRIBUTE | ALPC_MESSAGE_DIRECT_ATTRIBUTE
                | ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE
        )
        #expect(ALPC_MESSAGE_ATTRIBUTE_ALL == 0xFE00_0000)
        #expect(ALPC_MAX_ALLOWED_MESSAGE_LENGTH == 0xFFFF && AlpcMaxAllowedMessageLength() == 0xFFFF)
    }
}
