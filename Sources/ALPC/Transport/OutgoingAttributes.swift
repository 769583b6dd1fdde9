internal import CALPC
internal import CALPCSystem

/// The attributes an outgoing message carries to the peer, validated in full before anything
/// is sent.
///
/// ``prepare(_:policy:)`` reads the sender's attribute buffer and checks every attribute it
/// marks valid; any failure is a status for the sender, and nothing has been sent. What
/// travels: the security attribute (flags, a copy of the QoS, the context handle), the view
/// (as a section id and an offset), handles and the direct event (as descriptors on the
/// control socket), and the work-on-behalf ticket. The context and token attributes never
/// travel: the receiver fills them from what it knows.
///
/// A class: the record path passes an `OutgoingAttributes?` down every send, and for the
/// messages without attributes (most) nil is then one null word, where an optional struct of
/// this size was zeroed and copied on each call. Only a message with attributes allocates one.
final class OutgoingAttributes {
    /// The attributes that can travel.
    static let travelling: AttributeFlags = [.security, .view, .handle, .direct, .workOnBehalf]

    /// The attributes that travel with this message.
    private(set) var flags: AttributeFlags = []

    private var securityFlags: UInt32 = 0
    private var qos: SECURITY_QUALITY_OF_SERVICE?
    private var contextHandle: UInt64 = 0

    private var viewFlags: UInt32 = 0
    /// The section of the view that travels.
    private(set) var viewSection: SectionRecord?
    private var viewOffset = 0
    private var viewSize: UInt64 = 0
    /// A view the sender releases once the message is published (ALPC_VIEWFLG_UNMAP_EXISTING).
    private var viewToRelease: (record: SectionRecord, offset: Int)?

    private var handleFlags: UInt32 = 0
    private var handleDescription = HandleDescription(objectType: 0, grantedAccess: 0)
    /// The handle descriptors, still owned by the sender's application.
    private(set) var handles: [Int32] = []
    private var isIndirect = false

    /// The direct attribute's eventfd, or -1.
    private(set) var event: Int32 = -1

    private var ticket: UInt64 = 0

    /// No attributes travel.
    init() {}

    /// The attribute bytes the record carries after its data: 0 when nothing travels.
    var encodedLength: Int {
        guard !flags.isEmpty else { return 0 }
        return Int(AlpcpGetHeaderSize(flags.rawValue)) + (qos == nil ? 0 : Self.qosExtent)
    }

    /// The bytes the QoS copy takes after the blobs (12, padded to 8).
    private static let qosExtent = 16

    /// Whether descriptors travel on the control socket.
    var hasDescriptors: Bool { !handles.isEmpty || event >= 0 }

    // MARK: Validation

    /// Validates the attributes `message` marks valid and captures what travels.
    ///
    /// - Throws: ``NTStatus/invalidParameter`` for an attribute marked valid but not allocated,
    ///   bad flags, or a handle count below 2 in the indirect form;
    ///   ``NTStatus/invalidViewSize`` for a view outside every view of a section;
    ///   ``NTStatus/invalidHandle`` for an unknown section handle or a descriptor that is not
    ///   open (descriptor 0, the NULL handle, included);
    ///   ``NTStatus/notSupported`` for handles on a connection accepted without
    ///   `ALPC_PORFLG_ALLOW_DUP_OBJECT`, or an indirect array without
    ///   `ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE`;
    ///   ``NTStatus/lpcHandleCountExceeded`` for more than 512 handles;
    ///   ``NTStatus/objectTypeMismatch`` for a handle of a type the receiver does not take, or
    ///   not the type the sender named, or a direct event that is not an eventfd;
    ///   ``NTStatus/accessDenied`` for a handle asking for more access than it grants.
    /// Whether anything of `message`'s attributes travels; when not, the message is sent as
    /// a record without attributes, skipping ``prepare(_:policy:)``.
    ///
    /// - Throws: ``NTStatus/invalidParameter`` for an attribute marked valid but not allocated.
    static func travel(with message: AlpcMessage) throws(NTStatus) -> Bool {
        let attributes = message.attributes
        let valid = attributes.valid.intersection(.all)
        guard attributes.allocated.isSuperset(of: valid) else { throw .invalidParameter }
        return !valid.isDisjoint(with: travelling)
    }

    static func prepare(_ message: AlpcMessage, policy: HandlePolicy) throws(NTStatus) -> OutgoingAttributes {
        let out = OutgoingAttributes()
        let attributes = message.attributes
        let valid = attributes.valid.intersection(.all)
        if valid.isEmpty { return out }
        guard attributes.allocated.isSuperset(of: valid) else { throw .invalidParameter }

        if valid.contains(.security) {
            guard let blob = attributes.security else { throw .invalidParameter }
            out.securityFlags = blob.flags
            out.contextHandle = blob.contextHandle
            if let address = blob.qosAddress {
                out.qos = address.loadUnaligned(as: SECURITY_QUALITY_OF_SERVICE.self)
            }
            out.flags.insert(.security)
        }
        if valid.contains(.view) {
            guard let blob = attributes.view else { throw .invalidParameter }
            let flags = blob.flags
            guard flags & ~ALPC_VIEWFLG_VALID_MASK == 0 else { throw .invalidParameter }
            let (record, offset) = try SectionTable.shared.locate(
                sectionHandle: blob.sectionHandle, viewBase: blob.viewBase, viewSize: blob.viewSize)
            if flags & ALPC_VIEWFLG_UNMAP_EXISTING != 0 {
                out.viewToRelease = (record, offset)
            } else {
                out.viewFlags = flags
                out.viewSection = record
                out.viewOffset = offset
                out.viewSize = blob.viewSize
                out.flags.insert(.view)
            }
        }
        if valid.contains(.handle) {
            guard let blob = attributes.handle else { throw .invalidParameter }
            try out.captureHandles(blob, policy: policy)
            out.flags.insert(.handle)
        }
        if valid.contains(.direct) {
            guard let blob = attributes.direct else { throw .invalidParameter }
            let fd = try descriptor(blob.event)
            guard system_fileStatusFlags(fd) >= 0 else { throw .invalidHandle }
            guard HandleDescription.Kind(fd) == .event else { throw .objectTypeMismatch }
            out.event = fd
            out.flags.insert(.direct)
        }
        if valid.contains(.workOnBehalf) {
            guard let blob = attributes.workOnBehalf else { throw .invalidParameter }
            out.ticket = blob.ticket
            out.flags.insert(.workOnBehalf)
        }
        return out
    }

    /// Captures the handle attribute: one descriptor, or an indirect array of 2...512.
    private func captureHandles(_ blob: HandleAttribute, policy: HandlePolicy) throws(NTStatus) {
        let flags = blob.flags
        guard policy.allowsHandles else { throw .notSupported }
        handleFlags = flags
        guard flags & ALPC_HANDLEFLG_INDIRECT != 0 else {
            let fd = try Self.descriptor(blob.handle)
            handleDescription = try Self.describe(
                fd, flags: flags, objectType: blob.objectType, desiredAccess: blob.desiredAccess, policy: policy)
            handles = [fd]
            return
        }
        guard policy.allowsMultipleHandles else { throw .notSupported }
        let count = Int(blob.handleCount)
        guard count <= Int(ALPC_INDIRECT_HANDLE_MAX) else { throw .lpcHandleCountExceeded }
        guard count >= 2, let array = blob.handleAttrArrayAddress else { throw .invalidParameter }
        isIndirect = true
        var fds: [Int32] = []
        fds.reserveCapacity(count)
        let stride = MemoryLayout<ALPC_HANDLE_ATTR32>.size
        for index in 0..<count {
            let entry = (array + index * stride).loadUnaligned(as: ALPC_HANDLE_ATTR32.self)
            let fd = try Self.descriptor(UInt64(entry.Handle))
            _ = try Self.describe(
                fd, flags: entry.Flags, objectType: entry.ObjectType, desiredAccess: entry.DesiredAccess, policy: policy)
            fds.append(fd)
        }
        handles = fds
    }

    /// The descriptor a handle value names. 0 is the NULL handle.
    private static func descriptor(_ handle: UInt64) throws(NTStatus) -> Int32 {
        guard handle > 0, handle <= UInt64(Int32.max) else { throw .invalidHandle }
        return Int32(handle)
    }

    /// Checks one handle against the sender's wishes and the receiver's rules.
    private static func describe(
        _ fd: Int32, flags: UInt32, objectType: UInt32, desiredAccess: UInt32, policy: HandlePolicy
    ) throws(NTStatus) -> HandleDescription {
        let description = try HandleDescription.of(fd)
        if objectType != 0 && objectType != description.objectType { throw .objectTypeMismatch }
        guard description.objectType & policy.sendTypes != 0 else { throw .objectTypeMismatch }
        if flags & ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS == 0, desiredAccess & ~description.grantedAccess != 0 {
            throw .accessDenied
        }
        return description
    }

    // MARK: Sending

    /// Sends what must precede the record on the control socket: the view's section if this
    /// connection has not had it yet, then the attachment with the descriptors. Runs under the
    /// connection's send lock, after a slot has been reserved and before it is published.
    ///
    /// - Returns: true when the record must carry `ALPC_SLOT_FLAG_ATTACHMENT`.
    func sendControl(
        on socket: borrowing ControlSocket, sentSections: inout Set<UInt64>, sequence: inout UInt32,
        timeout: Duration?
    ) throws(NTStatus) -> Bool {
        var flagged = false
        if let section = viewSection, !sentSections.contains(section.id) {
            try socket.send(
                .section(id: section.id, size: UInt64(section.size)), fds: [section.file.rawValue], timeout: timeout)
            sentSections.insert(section.id)
            flagged = true
        }
        guard flagged || hasDescriptors else { return false }
        sequence &+= 1
        var fds = handles
        if event >= 0 { fds.append(event) }
        let perPacket = Int(ALPC_MAX_FDS_PER_PACKET)
        var first = 0
        repeat {
            let chunk = Array(fds[first..<min(fds.count, first + perPacket)])
            let header = ControlPacket.AttachmentHeader(
                sequence: sequence, handleCount: UInt32(handles.count), eventCount: event >= 0 ? 1 : 0,
                firstDescriptor: UInt32(first))
            try socket.send(.attachment(header), fds: chunk, timeout: timeout)
            first += chunk.count
        } while first < fds.count
        return true
    }

    /// Writes the attributes, in the Windows layout, at `area` (``encodedLength`` bytes).
    func write(to area: UnsafeMutableRawPointer) {
        let length = encodedLength
        guard length > 0 else { return }
        area.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        area.storeWire(flags.rawValue, at: WireLayout.MessageAttributesHeader.allocatedAttributes)
        area.storeWire(flags.rawValue, at: WireLayout.MessageAttributesHeader.validAttributes)
        var offset = WireLayout.MessageAttributesHeader.size
        let qosOffset = Int(AlpcpGetHeaderSize(flags.rawValue))
        if flags.contains(.security) {
            let blob = SecurityAttribute(unsafeStart: area + offset)
            blob.flags = securityFlags
            blob.qos = qos == nil ? 0 : UInt64(qosOffset)
            blob.contextHandle = contextHandle
            offset += SecurityAttribute.size
        }
        if flags.contains(.view), let viewSection {
            let blob = DataViewAttribute(unsafeStart: area + offset)
            blob.flags = viewFlags
            blob.sectionHandle = viewSection.id
            blob.viewBase = UInt64(viewOffset)
            blob.viewSize = viewSize
            offset += DataViewAttribute.size
        }
        if flags.contains(.handle) {
            let blob = HandleAttribute(unsafeStart: area + offset)
            blob.flags = handleFlags
            if isIndirect {
                blob.handleCount = UInt32(handles.count)
            } else {
                blob.objectType = handleDescription.objectType
                blob.desiredAccess = handleDescription.grantedAccess
            }
            offset += HandleAttribute.size
        }
        if flags.contains(.direct) {
            offset += DirectAttribute.size
        }
        if flags.contains(.workOnBehalf) {
            WorkOnBehalfAttribute(unsafeStart: area + offset).ticket = ticket
            offset += WorkOnBehalfAttribute.size
        }
        if let qos {
            (area + qosOffset).storeBytes(of: qos, as: SECURITY_QUALITY_OF_SERVICE.self)
        }
    }

    /// Completes what the message asked for once it is published: releases a view marked
    /// `ALPC_VIEWFLG_UNMAP_EXISTING`.
    func finish() {
        if let viewToRelease {
            SectionTable.shared.releaseView(viewToRelease.record, offset: viewToRelease.offset)
        }
    }
}
