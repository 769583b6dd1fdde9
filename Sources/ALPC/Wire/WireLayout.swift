/// The byte offsets and sizes of the Windows x64 wire structs, as the Swift views use them.
///
/// This is the one place where the Swift side spells an offset. Every value is the x64
/// layout of the matching struct in `ntalpc.h` (where `_Static_assert`s pin it), and the
/// layout tests check that a value written through a Swift view is read back through the
/// C struct, and the other way round.
@usableFromInline
enum WireLayout {
    /// `PORT_MESSAGE`: the 0x28-byte header of every message; the data follows it.
    @usableFromInline
    enum PortMessageHeader {
        /// `u1.s1.DataLength` (CSHORT, used as unsigned).
        @inlinable static var dataLength: Int { 0x00 }
        /// `u1.s1.TotalLength` (CSHORT, used as unsigned).
        @inlinable static var totalLength: Int { 0x02 }
        /// `u1.Length`: DataLength and TotalLength as one ULONG.
        @inlinable static var length: Int { 0x00 }
        /// `u2.s2.Type` (CSHORT, used as unsigned).
        @inlinable static var type: Int { 0x04 }
        /// `u2.s2.DataInfoOffset` (CSHORT, used as unsigned).
        @inlinable static var dataInfoOffset: Int { 0x06 }
        /// `u2.ZeroInit`: Type and DataInfoOffset as one ULONG.
        @inlinable static var zeroInit: Int { 0x04 }
        /// `ClientId.UniqueProcess` (HANDLE).
        @inlinable static var clientIdProcess: Int { 0x08 }
        /// `ClientId.UniqueThread` (HANDLE).
        @inlinable static var clientIdThread: Int { 0x10 }
        /// `MessageId` (ULONG).
        @inlinable static var messageId: Int { 0x18 }
        /// `ClientViewSize` (SIZE_T), a union with `CallbackId`.
        @inlinable static var clientViewSize: Int { 0x20 }
        /// `CallbackId` (ULONG), a union with `ClientViewSize`.
        @inlinable static var callbackId: Int { 0x20 }
        /// `sizeof(PORT_MESSAGE)`.
        @inlinable static var size: Int { 0x28 }
        /// The alignment of `PORT_MESSAGE`.
        @inlinable static var alignment: Int { 8 }
    }

    /// `ALPC_MESSAGE_ATTRIBUTES`: the 8-byte header of an attribute buffer; blobs follow it.
    @usableFromInline
    enum MessageAttributesHeader {
        /// `AllocatedAttributes` (ULONG).
        @inlinable static var allocatedAttributes: Int { 0x00 }
        /// `ValidAttributes` (ULONG).
        @inlinable static var validAttributes: Int { 0x04 }
        /// `sizeof(ALPC_MESSAGE_ATTRIBUTES)`.
        @inlinable static var size: Int { 0x08 }
        /// The alignment of an attribute buffer.
        @inlinable static var alignment: Int { 8 }
    }

    /// `ALPC_SECURITY_ATTR`.
    @usableFromInline
    enum SecurityAttr {
        @inlinable static var flags: Int { 0x00 }
        @inlinable static var qos: Int { 0x08 }
        @inlinable static var contextHandle: Int { 0x10 }
        @inlinable static var size: Int { 0x18 }
    }

    /// `ALPC_DATA_VIEW_ATTR`.
    @usableFromInline
    enum DataViewAttr {
        @inlinable static var flags: Int { 0x00 }
        @inlinable static var sectionHandle: Int { 0x08 }
        @inlinable static var viewBase: Int { 0x10 }
        @inlinable static var viewSize: Int { 0x18 }
        @inlinable static var size: Int { 0x20 }
    }

    /// `ALPC_CONTEXT_ATTR`.
    @usableFromInline
    enum ContextAttr {
        @inlinable static var portContext: Int { 0x00 }
        @inlinable static var messageContext: Int { 0x08 }
        @inlinable static var sequence: Int { 0x10 }
        @inlinable static var messageId: Int { 0x14 }
        @inlinable static var callbackId: Int { 0x18 }
        @inlinable static var size: Int { 0x20 }
    }

    /// `ALPC_HANDLE_ATTR` (the corrected 24-byte layout).
    @usableFromInline
    enum HandleAttr {
        @inlinable static var flags: Int { 0x00 }
        /// `Handle`, a union with `HandleAttrArray`.
        @inlinable static var handle: Int { 0x08 }
        /// `HandleAttrArray`, a union with `Handle`.
        @inlinable static var handleAttrArray: Int { 0x08 }
        /// `ObjectType`, a union with `HandleCount`.
        @inlinable static var objectType: Int { 0x10 }
        /// `HandleCount`, a union with `ObjectType`.
        @inlinable static var handleCount: Int { 0x10 }
        /// `DesiredAccess`, a union with `GrantedAccess`.
        @inlinable static var desiredAccess: Int { 0x14 }
        @inlinable static var size: Int { 0x18 }
    }

    /// `ALPC_TOKEN_ATTR`.
    @usableFromInline
    enum TokenAttr {
        @inlinable static var tokenId: Int { 0x00 }
        @inlinable static var authenticationId: Int { 0x08 }
        @inlinable static var modifiedId: Int { 0x10 }
        @inlinable static var size: Int { 0x18 }
    }

    /// `ALPC_DIRECT_ATTR`.
    @usableFromInline
    enum DirectAttr {
        /// `Event` (also named `EventHandle`).
        @inlinable static var event: Int { 0x00 }
        @inlinable static var size: Int { 0x08 }
    }

    /// `ALPC_WORK_ON_BEHALF_ATTR`.
    @usableFromInline
    enum WorkOnBehalfAttr {
        @inlinable static var ticket: Int { 0x00 }
        /// `ThreadId`, the low half of `Ticket`.
        @inlinable static var threadId: Int { 0x00 }
        /// `ThreadCreationTimeLow`, the high half of `Ticket`.
        @inlinable static var threadCreationTimeLow: Int { 0x04 }
        @inlinable static var size: Int { 0x08 }
    }
}
