internal import CALPC
internal import CALPCSystem

/// The descriptors that travelled for one record: its handles, then the direct attribute's
/// event. Whatever nobody takes is closed when the attachment goes away.
final class Attachment: @unchecked Sendable {
    /// The attachment's sequence number on its connection.
    let sequence: UInt32
    /// How many of the descriptors are handles.
    let handleCount: Int
    /// Whether the last descriptor is an event to signal on delivery.
    let hasEvent: Bool
    /// The descriptors, handles first; -1 once taken.
    private(set) var descriptors: [Int32]

    init(header: ControlPacket.AttachmentHeader) {
        self.sequence = header.sequence
        self.handleCount = Int(header.handleCount)
        self.hasEvent = header.eventCount != 0
        self.descriptors = []
        descriptors.reserveCapacity(header.descriptorCount)
    }

    deinit {
        PeerDescriptorCloser.shared.close(descriptors)
    }

    /// Whether every descriptor has arrived.
    var isComplete: Bool { descriptors.count == handleCount + (hasEvent ? 1 : 0) }

    /// Adds the descriptors of one more packet, which now belong to the attachment.
    func append(_ fds: [Int32]) {
        descriptors.append(contentsOf: fds)
    }

    /// The handle descriptors, still owned by the attachment.
    var handles: ArraySlice<Int32> { descriptors[0..<min(handleCount, descriptors.count)] }

    /// The event descriptor, still owned by the attachment, or -1.
    var event: Int32 { hasEvent && isComplete ? descriptors[handleCount] : -1 }

    /// Takes the handle descriptors: they now belong to the caller.
    func takeHandles() -> [Int32] {
        let taken = Array(handles)
        for index in 0..<taken.count { descriptors[index] = -1 }
        return taken
    }
}

/// What a connection's peer sent on the control socket that the receiving side has not used
/// yet: the sections it may name in view attributes, and the attachments of records not yet
/// delivered.
///
/// Packets arrive in the order the peer sent them, and the peer sends a record's packets
/// before publishing the record, so when a flagged record is read, its attachment is either
/// here already or waiting on the socket. Everything here is untrusted: a packet that breaks
/// the protocol or exceeds the port's quota makes ``accept(_:fds:)`` return false, and the
/// connection is dropped.
final class PeerResources: @unchecked Sendable {
    /// The bounds on what the peer may make this process hold, shared with the port's other
    /// connections.
    let quota: PortQuota

    private let lock = ConditionLock()
    // Guarded by lock (so not checked for exclusive access at run time as well).
    @exclusivity(unchecked) private var sections: [UInt64: SectionRecord] = [:]
    @exclusivity(unchecked) private var ready: [Attachment] = []
    @exclusivity(unchecked) private var partial: Attachment?
    @exclusivity(unchecked) private var nextSequence: UInt32 = 1
    @exclusivity(unchecked) private var isClosed = false
    /// Bytes of the registered sections.
    @exclusivity(unchecked) private var sectionBytes: UInt64 = 0
    /// Descriptors held for the peer: one per registered section, and those of attachments
    /// not yet taken off ``ready``.
    @exclusivity(unchecked) private var heldDescriptors = 0

    /// The most descriptors one attachment may carry: a full indirect array and an event.
    static let maxDescriptors = Int(ALPC_INDIRECT_HANDLE_MAX) + 1
    /// The most complete attachments waiting for their records: a full ring, and every reply
    /// a server may keep for a client whose ring is full.
    static let maxReady = SegmentGeometry.maxSlotCount + PortQuota.defaultQueuedPerPeer

    /// Resources bounded by `quota`.
    init(quota: PortQuota) {
        self.quota = quota
    }

    deinit {
        releaseAll()
    }

    /// Charges `count` more descriptors to the peer and its port; false (nothing charged)
    /// beyond either bound. Holding `lock`.
    private func chargeDescriptorsLocked(_ count: Int) -> Bool {
        guard heldDescriptors + count <= quota.maxDescriptorsPerPeer, quota.chargeDescriptors(count) else {
            return false
        }
        heldDescriptors += count
        return true
    }

    /// Refunds `count` descriptors. Holding `lock`.
    private func refundDescriptorsLocked(_ count: Int) {
        heldDescriptors -= count
        quota.refundDescriptors(count)
    }

    /// Takes one packet received after the connection was set up, with the descriptors that
    /// came with it (now owned here: kept or closed). Returns false when the packet breaks
    /// the protocol.
    func accept(_ packet: ControlPacket, fds: [Int32]) -> Bool {
        var unclaimed = fds
        defer { PeerDescriptorCloser.shared.close(unclaimed) }
        switch packet {
        case .section(let id, let size):
            guard fds.count == 1, size > 0, size <= quota.maxSectionSize else { return false }
            // Charged before the section is looked at, refunded if it is refused.
            guard lock.withLock({ reserveSectionLocked(size: size) }) else { return false }
            unclaimed = []
            let record: SectionRecord
            do {
                record = try SectionTable.shared.adopt(OwnedDescriptor(adopting: fds[0]), size: Int(size))
            } catch {
                lock.withLock { refundSectionLocked(size: size) }
                return false
            }
            let registered: (accepted: Bool, replaced: SectionRecord?) = lock.withLock {
                guard !isClosed else {
                    refundSectionLocked(size: size)
                    return (false, nil)
                }
                let old = sections.updateValue(record, forKey: id)
                if let old { refundSectionLocked(size: UInt64(old.size)) }
                return (true, old)
            }
            if let old = registered.replaced { SectionTable.shared.release(old) }
            if !registered.accepted { SectionTable.shared.release(record) }
            return registered.accepted
        case .releaseSection(let id):
            guard fds.isEmpty else { return false }
            let old: SectionRecord? = lock.withLock {
                guard let old = sections.removeValue(forKey: id) else { return nil }
                refundSectionLocked(size: UInt64(old.size))
                return old
            }
            if let old { SectionTable.shared.release(old) }
            return true
        case .attachment(let header):
            let total = header.descriptorCount
            guard header.eventCount <= 1, total <= Self.maxDescriptors,
                Int(header.firstDescriptor) + fds.count <= total
            else { return false }
            return lock.withLock {
                guard !isClosed else { return false }
                let attachment: Attachment
                if let partial {
                    guard partial.sequence == header.sequence, partial.descriptors.count == Int(header.firstDescriptor),
                        partial.handleCount == Int(header.handleCount), partial.hasEvent == (header.eventCount != 0)
                    else { return false }
                    attachment = partial
                } else {
                    guard header.sequence == nextSequence, header.firstDescriptor == 0, ready.count < Self.maxReady
                    else { return false }
                    attachment = Attachment(header: header)
                }
                guard chargeDescriptorsLocked(fds.count) else { return false }
                attachment.append(fds)
                unclaimed = []
                if attachment.isComplete {
                    partial = nil
                    ready.append(attachment)
                    nextSequence &+= 1
                } else {
                    partial = attachment
                }
                return true
            }
        case .connect, .accept, .refuse, .disconnect, .wakeup:
            return false
        }
    }

    /// The oldest complete attachment, reading packets from `socket` (without waiting) until one
    /// is complete. Nil when the socket has none: the peer published a flagged record without
    /// its attachment, or broke the protocol, or is gone.
    func firstAttachment(reading socket: borrowing ControlSocket) -> Attachment? {
        while true {
            if let first = lock.withLock({ ready.first }) { return first }
            let received: (packet: ControlPacket, fds: [Int32])
            do {
                received = try socket.receivePacket(
                    maxFDs: Int(ALPC_MAX_FDS_PER_PACKET), timeout: .zero, capacity: ControlPacket.maxConnectedSize)
            } catch {
                return nil
            }
            guard accept(received.packet, fds: received.fds) else { return nil }
        }
    }

    /// Removes the oldest complete attachment once its record has been delivered.
    func removeFirstAttachment() {
        let removed: Attachment? = lock.withLock {
            guard !ready.isEmpty else { return nil }
            let first = ready.removeFirst()
            refundDescriptorsLocked(first.descriptors.count)
            return first
        }
        _ = removed
    }

    /// Charges one more section of `size` bytes (a new registration) to the peer and its port:
    /// false (nothing charged) beyond the peer's section count, its MaxTotalSectionSize, its
    /// share of descriptors, or the port's bounds. Holding `lock`.
    private func reserveSectionLocked(size: UInt64) -> Bool {
        guard !isClosed, sections.count < quota.maxSectionsPerPeer,
            sectionBytes <= quota.maxTotalSectionSize, size <= quota.maxTotalSectionSize - sectionBytes
        else { return false }
        guard chargeDescriptorsLocked(1) else { return false }
        guard quota.chargeSection(bytes: size) else {
            refundDescriptorsLocked(1)
            return false
        }
        sectionBytes += size
        return true
    }

    /// Refunds a section of `size` bytes. Holding `lock`.
    private func refundSectionLocked(size: UInt64) {
        sectionBytes -= size
        quota.refundSection(bytes: size)
        refundDescriptorsLocked(1)
    }

    /// The section the peer registered as `id`.
    func section(id: UInt64) -> SectionRecord? {
        lock.withLock { sections[id] }
    }

    /// Drops every section and attachment; later packets are refused.
    func releaseAll() {
        let (dropped, _, _): ([SectionRecord], [Attachment], Attachment?) = lock.withLock {
            isClosed = true
            defer {
                sections.removeAll()
                ready.removeAll()
                partial = nil
                quota.refundSection(bytes: sectionBytes)
                quota.refundDescriptors(heldDescriptors)
                sectionBytes = 0
                heldDescriptors = 0
            }
            return (Array(sections.values), ready, partial)
        }
        for record in dropped { SectionTable.shared.release(record) }
    }
}
