internal import CALPC

/// What the receiver fills in the context attribute of a message.
struct ContextStamp: Sendable {
    /// The connection's port context.
    var portContext: UInt64
    /// The message's number on its connection: 1, 2, 3...
    var sequence: UInt32
}

/// The attributes that travelled with one received record, decoded and checked, with the
/// descriptors and the section hold that came with them, until they are delivered into a
/// message.
///
/// Decoding trusts nothing in the slot: each field is read once, and a record whose attributes
/// break the protocol (unknown bits, lengths out of range, a view outside its section, handles
/// the connection does not allow, descriptors that do not match) is refused as a whole. What
/// is not delivered (descriptors, the section hold) is released when the value goes away.
final class InboundAttributes {
    private(set) var travelled: AttributeFlags = []

    private var securityFlags: UInt32 = 0
    private var qos: SECURITY_QUALITY_OF_SERVICE?
    private var contextHandle: UInt64 = 0

    private var viewFlags: UInt32 = 0
    private var viewBase: UnsafeMutableRawPointer?
    private var viewSize: UInt64 = 0
    /// The view's section, with one holder taken for this message.
    private var viewSection: SectionRecord?

    private var isIndirect = false
    private var descriptions: [HandleDescription] = []
    private var attachment: Attachment?

    private var ticket: UInt64 = 0

    private init() {}

    deinit {
        if let viewSection { SectionTable.shared.release(viewSection) }
    }

    /// Decodes the `length` attribute bytes at `area` in a slot, with the record's attachment
    /// (nil when the record is not flagged). Nil when nothing travelled.
    ///
    /// - Throws: ``NTStatus/invalidMessage`` when the peer broke the protocol.
    static func decode(
        area: UnsafeRawPointer, length: Int, attachment: Attachment?, peer: PeerResources, policy: HandlePolicy
    ) throws(NTStatus) -> InboundAttributes? {
        let header = WireLayout.MessageAttributesHeader.self
        guard length >= 0, length <= SegmentGeometry.attributeReserve, length % 8 == 0 else { throw .invalidMessage }
        guard length > 0 else {
            guard attachment?.descriptors.isEmpty ?? true else { throw .invalidMessage }
            return nil
        }
        guard length >= header.size else { throw .invalidMessage }
        let allocated = area.loadUnaligned(fromByteOffset: header.allocatedAttributes, as: UInt32.self)
        let valid = area.loadUnaligned(fromByteOffset: header.validAttributes, as: UInt32.self)
        let flags = AttributeFlags(rawValue: allocated)
        guard allocated == valid, OutgoingAttributes.travelling.isSuperset(of: flags) else { throw .invalidMessage }
        let blobsEnd = Int(AlpcpGetHeaderSize(allocated))
        guard blobsEnd <= length else { throw .invalidMessage }

        let inbound = InboundAttributes()
        inbound.travelled = flags
        inbound.attachment = attachment
        var offset = header.size
        if flags.contains(.security) {
            let blob = area + offset
            inbound.securityFlags = blob.loadUnaligned(fromByteOffset: WireLayout.SecurityAttr.flags, as: UInt32.self)
            inbound.contextHandle = blob.loadUnaligned(fromByteOffset: WireLayout.SecurityAttr.contextHandle, as: UInt64.self)
            let qosOffset = blob.loadUnaligned(fromByteOffset: WireLayout.SecurityAttr.qos, as: UInt64.self)
            if qosOffset != 0 {
                let size = UInt64(MemoryLayout<SECURITY_QUALITY_OF_SERVICE>.size)
                guard qosOffset >= UInt64(blobsEnd), qosOffset <= UInt64(length) - size else { throw .invalidMessage }
                inbound.qos = (area + Int(qosOffset)).loadUnaligned(as: SECURITY_QUALITY_OF_SERVICE.self)
            }
            offset += SecurityAttribute.size
        }
        if flags.contains(.view) {
            let blob = area + offset
            let viewFlags = blob.loadUnaligned(fromByteOffset: WireLayout.DataViewAttr.flags, as: UInt32.self)
            let id = blob.loadUnaligned(fromByteOffset: WireLayout.DataViewAttr.sectionHandle, as: UInt64.self)
            let viewOffset = blob.loadUnaligned(fromByteOffset: WireLayout.DataViewAttr.viewBase, as: UInt64.self)
            let size = blob.loadUnaligned(fromByteOffset: WireLayout.DataViewAttr.viewSize, as: UInt64.self)
            guard let record = peer.section(id: id), size > 0, size <= peer.quota.maxViewSize,
                viewOffset <= UInt64(record.size),
                size <= UInt64(record.size) - viewOffset
            else { throw .invalidMessage }
            let base = try SectionTable.shared.retainMapped(record)
            inbound.viewSection = record
            inbound.viewFlags = viewFlags
            inbound.viewBase = base + Int(viewOffset)
            inbound.viewSize = size
            offset += DataViewAttribute.size
        }
        let handleCount = attachment?.handleCount ?? 0
        if flags.contains(.handle) {
            let blob = area + offset
            let handleFlags = blob.loadUnaligned(fromByteOffset: WireLayout.HandleAttr.flags, as: UInt32.self)
            let count = blob.loadUnaligned(fromByteOffset: WireLayout.HandleAttr.handleCount, as: UInt32.self)
            guard let attachment, policy.allowsHandles else { throw .invalidMessage }
            if handleFlags & ALPC_HANDLEFLG_INDIRECT != 0 {
                guard policy.allowsMultipleHandles, handleCount >= 1, handleCount <= Int(ALPC_INDIRECT_HANDLE_MAX),
                    Int(count) == handleCount
                else { throw .invalidMessage }
                inbound.isIndirect = true
            } else {
                guard handleCount == 1 else { throw .invalidMessage }
            }
            var descriptions: [HandleDescription] = []
            descriptions.reserveCapacity(handleCount)
            for fd in attachment.handles {
                let description = try HandleDescription.of(fd)
                guard description.objectType & policy.receiveTypes != 0 else { throw .invalidMessage }
                descriptions.append(description)
            }
            inbound.descriptions = descriptions
            offset += HandleAttribute.size
        } else {
            guard handleCount == 0 else { throw .invalidMessage }
        }
        let hasEvent = attachment?.hasEvent ?? false
        if flags.contains(.direct) {
            guard hasEvent, let event = attachment?.event, HandleDescription.Kind(event) == .event else {
                throw .invalidMessage
            }
            offset += DirectAttribute.size
        } else {
            guard !hasEvent else { throw .invalidMessage }
        }
        if flags.contains(.workOnBehalf) {
            inbound.ticket = (area + offset).loadUnaligned(fromByteOffset: WireLayout.WorkOnBehalfAttr.ticket, as: UInt64.self)
            offset += WorkOnBehalfAttribute.size
        }
        return inbound
    }

    /// Fills the attributes `message` allocated with what the receiver knows (`context`, and
    /// the token from the sender's kernel credentials) and what travelled, and sets
    /// `ValidAttributes` to exactly what was delivered. Releases what the message held from
    /// its previous receive first, and signals the direct event.
    static func install(
        _ inbound: borrowing InboundAttributesHold, into message: AlpcMessage, context: ContextStamp?, sender: PeerCredentials
    ) {
        message.receivedResources?.reset()
        let attributes = message.attributes
        var valid: AttributeFlags = []
        if let context, let blob = attributes.context {
            blob.portContext = context.portContext
            blob.messageContext = 0
            blob.sequence = context.sequence
            blob.messageId = 0
            blob.callbackId = 0
            valid.insert(.context)
        }
        if let blob = attributes.token {
            blob.tokenId = UInt64(sender.uid)
            blob.authenticationId = UInt64(sender.gid)
            blob.modifiedId = sender.processId
            valid.insert(.token)
        }
        inbound.withAttributes { $0.deliver(into: message, valid: &valid) }
        attributes.valid = valid
    }

    /// The message's resources, created on first use.
    private static func resources(of message: AlpcMessage) -> ReceivedResources {
        if let resources = message.receivedResources { return resources }
        let resources = ReceivedResources()
        message.receivedResources = resources
        return resources
    }

    private func deliver(into message: AlpcMessage, valid: inout AttributeFlags) {
        let attributes = message.attributes
        if travelled.contains(.security), let blob = attributes.security {
            blob.flags = securityFlags
            blob.contextHandle = contextHandle
            if let qos {
                let resources = Self.resources(of: message)
                resources.qos.pointee = qos
                blob.qosAddress = UnsafeMutableRawPointer(resources.qos)
            } else {
                blob.qos = 0
            }
            valid.insert(.security)
        }
        if let viewBase, let viewSection, let blob = attributes.view {
            blob.flags = viewFlags
            blob.sectionHandle = 0
            blob.viewBase = UInt64(UInt(bitPattern: viewBase))
            blob.viewSize = viewSize
            Self.resources(of: message).hold(viewSection)
            self.viewSection = nil
            valid.insert(.view)
        }
        if travelled.contains(.handle), let attachment, let blob = attributes.handle {
            let resources = Self.resources(of: message)
            let fds = attachment.takeHandles()
            resources.adopt(fds, indirect: isIndirect)
            if isIndirect {
                let array = resources.handleArray(count: fds.count)
                for (index, fd) in fds.enumerated() {
                    var entry = ALPC_HANDLE_ATTR32()
                    entry.Handle = UInt32(bitPattern: fd)
                    entry.ObjectType = descriptions[index].objectType
                    entry.DesiredAccess = descriptions[index].grantedAccess
                    (array + index * MemoryLayout<ALPC_HANDLE_ATTR32>.size).storeBytes(of: entry, as: ALPC_HANDLE_ATTR32.self)
                }
                blob.flags = ALPC_HANDLEFLG_INDIRECT
                blob.handleAttrArrayAddress = array
                blob.handleCount = UInt32(fds.count)
                blob.desiredAccess = 0
            } else {
                blob.flags = 0
                blob.handle = UInt64(fds[0])
                blob.objectType = descriptions[0].objectType
                blob.desiredAccess = descriptions[0].grantedAccess
            }
            valid.insert(.handle)
        }
        if travelled.contains(.workOnBehalf), let blob = attributes.workOnBehalf {
            blob.ticket = ticket
            valid.insert(.workOnBehalf)
        }
        if let event = attachment?.event, event >= 0 {
            _ = system_eventfdSignal(event)
        }
    }
}
