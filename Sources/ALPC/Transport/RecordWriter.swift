internal import CALPC
internal import CALPCSystem
internal import Synchronization

/// The writing end of one connection: every record a side sends, request, reply or datagram,
/// goes through it, in the same steps on both sides (see the Record Path article): reserve a
/// slot, send what must precede the record on the control socket, write, publish, wake the
/// reader only when it sleeps.
///
/// Any number of threads may write at once; they take turns under the writer's lock, which
/// also guards what the peer has been sent on the control socket, so that packets and records
/// reach it in the same order.
final class RecordWriter: @unchecked Sendable {
    /// What a writer does with a record when the ring is full.
    enum WhenFull {
        /// Waits for the reader to free a slot, until the call's deadline (the client: its calls
        /// have deadlines and wait anyway).
        case wait
        /// Keeps a copy and publishes it once the reader frees a slot, within the quota (the
        /// server, which a slow client must never block).
        case keep
    }

    /// Why a record was not published.
    enum Failure: Error {
        /// Nothing was published or kept; the connection is sound.
        case refused(NTStatus)
        /// The connection can no longer be trusted: the reader moved its Head where no head can
        /// be, or a control packet went without its record. The caller ends the connection; the
        /// call fails with the status.
        case broken(NTStatus)
    }

    /// The ring written.
    private let ring: RingView
    private let whenFull: WhenFull
    /// The bounds on what a keeping writer holds for a reader that is behind.
    private let quota: PortQuota
    /// The writer's CPU word in the segment (the reader's waits read it): the consumer CPU word
    /// of the ring this side reads.
    private let ownCpu: UnsafeMutablePointer<Atomic<UInt32>>

    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var producer: RingProducer
    /// The doorbell of a reader that asked to be rung (nil: none yet).
    @exclusivity(unchecked) private var readerDoorbell: Doorbell?
    /// Records kept while the ring is full, oldest first, and their bytes.
    @exclusivity(unchecked) private var kept: [[UInt8]] = []
    @exclusivity(unchecked) private var keptBytes = 0
    /// The ids of this process's sections the peer has been sent.
    @exclusivity(unchecked) private var sentSections: Set<UInt64> = []
    /// The number of the last attachment sent.
    @exclusivity(unchecked) private var attachmentSequence: UInt32 = 0
    /// What was written since ``takeTraffic()`` last ran.
    @exclusivity(unchecked) private var traffic = Traffic()
    /// Where the writer lists itself when it has written something to collect (nil: nobody
    /// collects). Weak: the list holds the writers it lists.
    private weak var trafficList: WrittenTraffic?

    /// Records written (published or kept) and their data bytes.
    struct Traffic {
        var records: UInt64 = 0
        var dataBytes: UInt64 = 0
    }

    /// A writer for `ring`, whose own CPU word is `ownCpu`, ringing `readerDoorbell` when the
    /// reader asks for it, and listing itself in `trafficList` when it has written something.
    init(
        ring: RingView, whenFull: WhenFull, quota: PortQuota, ownCpu: UnsafeMutablePointer<Atomic<UInt32>>,
        readerDoorbell: consuming Doorbell?, trafficList: WrittenTraffic? = nil
    ) {
        self.trafficList = trafficList
        self.ring = ring
        self.whenFull = whenFull
        self.quota = quota
        self.ownCpu = ownCpu
        self.producer = RingProducer(ring: ring)
        self.readerDoorbell = readerDoorbell
    }

    // MARK: Publishing

    /// Publishes one record of `recordLength` bytes, `dataLength` of them data: reserves a
    /// slot, sends `attributes`' sections and descriptors on `control` (within `deadline`), then
    /// has `write` fill the slot, given the slot flags the record carries, and publishes it.
    /// When the ring is full, a waiting writer waits for room until `deadline` (`liveness`
    /// throws when the reader is gone); a keeping writer writes the record into a copy that it
    /// publishes later.
    ///
    /// - Throws: `.refused` with `write`'s error, `.timeout`, what `liveness` throws, or
    ///   `.quotaExceeded` (a keeping writer over what the port keeps for this reader or for all
    ///   of them); `.broken` when the reader's Head is impossible or a control packet failed.
    @inline(__always)
    func publish(
        recordLength: Int, dataLength: Int, attributes: OutgoingAttributes? = nil, control: borrowing ControlSocket,
        deadline: inout CallDeadline, liveness: () throws(NTStatus) -> Void,
        write: (UnsafeMutableRawPointer, _ slotFlags: UInt32) throws(NTStatus) -> Void
    ) throws(Failure) {
        lock.lock()
        let published: Bool
        do throws(Failure) {
            published = try publishLocked(
                recordLength: recordLength, dataLength: dataLength, attributes: attributes, control: control,
                deadline: &deadline, liveness: liveness, write: write)
        } catch {
            lock.unlock()
            throw error
        }
        guard published else {
            lock.unlock()
            return
        }
        // The publish needs a fence before it reads the reader's wake request: the unlock's
        // store goes before it and shares it, one atomic instruction fewer than an unlock of
        // its own. (Another writer may publish meanwhile: each reads the request after its
        // own record, so a sleeping reader is woken at least once.)
        let ring = self.ring
        wakeReader(lock.unlock(sharingFenceOf: { ring.fenceThenReadWakeRequest() }))
    }

    /// The steps of ``publish(recordLength:dataLength:attributes:control:deadline:liveness:write:)``
    /// under the lock: true when the record is published, its wake request still to be read;
    /// false when it was kept.
    @inline(__always)
    private func publishLocked(
        recordLength: Int, dataLength: Int, attributes: OutgoingAttributes?, control: borrowing ControlSocket,
        deadline: inout CallDeadline, liveness: () throws(NTStatus) -> Void,
        write: (UnsafeMutableRawPointer, _ slotFlags: UInt32) throws(NTStatus) -> Void
    ) throws(Failure) -> Bool {
        // Kept records go first: while any is left, so does this one.
        if !kept.isEmpty { try flushKeptLocked() }
        guard kept.isEmpty, let slot = try reserveLocked(deadline: &deadline, liveness: liveness) else {
            // Written here, not in a call of its own: a closure handed to a call that is not
            // inlined has its context built on every publish, including those that never keep.
            var (image, slotFlags) = try startKeepingLocked(
                recordLength: recordLength, attributes: attributes, control: control, deadline: &deadline)
            let written = image.withUnsafeMutableBytes { raw in
                Result { () throws(NTStatus) in try write(raw.baseAddress!, slotFlags) }
            }
            if case .failure(let error) = written {
                quota.refundPool(bytes: recordLength)
                throw .refused(error)
            }
            try keepLocked(image, dataLength: dataLength)
            return false
        }
        let slotFlags = try sendAttachmentsLocked(attributes, on: control, deadline: &deadline)
        do {
            try write(slot, slotFlags)
        } catch {
            throw .refused(error)
        }
        countLocked(records: 1, dataBytes: UInt64(dataLength))
        producer.publishUnfenced()
        return true
    }

    /// Publishes `count` records of `dataLength` data bytes without attributes, `write` filling
    /// record `index` in its slot: every slot the ring has free is filled, then published with
    /// one store and at most one wake-up, then the next group waits for room (until
    /// `deadline`). A waiting writer's call only.
    ///
    /// - Throws: as ``publish(recordLength:dataLength:attributes:control:deadline:liveness:write:)``;
    ///   when `write` throws, the records before it are published.
    @inline(__always)
    func publishBatch(
        count: Int, dataLength: Int, deadline: inout CallDeadline, liveness: () throws(NTStatus) -> Void,
        write: (Int, UnsafeMutableRawPointer) throws(NTStatus) -> Void
    ) throws(Failure) {
        precondition(whenFull == .wait, "only a waiting writer publishes batches")
        lock.lock()
        defer { lock.unlock() }
        var sent = 0
        while sent < count {
            var free: Int
            do throws(NTStatus) {
                free = try producer.freeSlots(upTo: count - sent)
            } catch {
                throw .broken(.portDisconnected)
            }
            if free == 0 {
                try waitForRoomLocked(deadline: &deadline, liveness: liveness)
                continue
            }
            var written = 0
            var failure: NTStatus?
            while written < free {
                do throws(NTStatus) {
                    try write(sent + written, producer.slot(after: written))
                } catch {
                    failure = error
                    break
                }
                written += 1
            }
            if written > 0 { wakeReaderLocked(producer.publish(count: written)) }
            countLocked(records: UInt64(written), dataBytes: UInt64(written) &* UInt64(dataLength))
            sent += written
            if let failure { throw .refused(failure) }
        }
    }

    /// A free slot, waiting for one if the writer waits; nil when a keeping writer finds the
    /// ring full. Holding the lock.
    @inline(__always)
    private func reserveLocked(
        deadline: inout CallDeadline, liveness: () throws(NTStatus) -> Void
    ) throws(Failure) -> UnsafeMutableRawPointer? {
        do throws(NTStatus) {
            if let slot = try producer.reserve() { return slot }
            guard whenFull == .wait else { return nil }
        } catch {
            throw .broken(.portDisconnected)
        }
        try waitForRoomLocked(deadline: &deadline, liveness: liveness)
        do throws(NTStatus) {
            return try producer.reserve()
        } catch {
            throw .broken(.portDisconnected)
        }
    }

    /// Waits until the ring has a free slot or `deadline` passes. Holding the lock.
    @inline(never)
    private func waitForRoomLocked(deadline: inout CallDeadline, liveness: () throws(NTStatus) -> Void) throws(Failure) {
        do throws(NTStatus) {
            try AdaptiveWait.wait(
                futexWord: ring.headAddress, sleepingFlag: ring.producerSleeping, ownCpu: ownCpu,
                peerCpu: ring.consumerCpu, deadline: &deadline,
                poll: { () throws(NTStatus) -> Bool in try producer.freeSlots(upTo: 1) > 0 },
                liveness: liveness)
        } catch {
            throw error == .invalidMessage ? .broken(.portDisconnected) : .refused(error)
        }
    }

    /// Sends what must precede a record with `attributes` on `control`: a section the peer has
    /// not seen, and the descriptors of handle and direct attributes. Returns the record's slot
    /// flags. Holding the lock.
    private func sendAttachmentsLocked(
        _ attributes: OutgoingAttributes?, on control: borrowing ControlSocket, deadline: inout CallDeadline
    ) throws(Failure) -> UInt32 {
        guard let attributes else { return 0 }
        do throws(NTStatus) {
            let sent = try attributes.sendControl(
                on: control, sentSections: &sentSections, sequence: &attachmentSequence,
                timeout: Self.remaining(until: deadline.instant()))
            return sent ? ALPC_SLOT_FLAG_ATTACHMENT : 0
        } catch {
            // Packets may have gone without their record.
            throw .broken(error == .timeout ? .timeout : .portDisconnected)
        }
    }

    /// The time left until `deadline` (nil: no limit).
    private static func remaining(until deadline: UInt64?) -> Duration? {
        guard let deadline else { return nil }
        let now = alpc_now_ns()
        return .nanoseconds(Int64(clamping: deadline > now ? deadline - now : 0))
    }

    // MARK: Keeping records for a reader that is behind

    /// Starts keeping a record of `recordLength` bytes until the reader frees a slot (the ring
    /// is full, or older records wait): charges the port's pool for it, sends what precedes it
    /// on `control`, and returns the zeroed copy to write it into, and its slot flags. The
    /// caller writes it and hands it to ``keepLocked(_:dataLength:)``, or refunds the pool.
    /// Holding the lock.
    @inline(never)
    private func startKeepingLocked(
        recordLength: Int, attributes: OutgoingAttributes?, control: borrowing ControlSocket,
        deadline: inout CallDeadline
    ) throws(Failure) -> (image: [UInt8], slotFlags: UInt32) {
        guard kept.count < quota.maxQueuedPerPeer, keptBytes + recordLength <= quota.maxPoolUsagePerPeer,
            quota.chargePool(bytes: recordLength)
        else { throw .refused(.quotaExceeded) }
        do throws(Failure) {
            let slotFlags = try sendAttachmentsLocked(attributes, on: control, deadline: &deadline)
            return ([UInt8](repeating: 0, count: recordLength), slotFlags)
        } catch {
            quota.refundPool(bytes: recordLength)
            throw error
        }
    }

    /// Keeps `image`, a record with `dataLength` bytes of data written after
    /// ``startKeepingLocked(recordLength:attributes:control:deadline:)``, then moves what fits
    /// into the ring. Holding the lock.
    @inline(never)
    private func keepLocked(_ image: [UInt8], dataLength: Int) throws(Failure) {
        kept.append(image)
        keptBytes += image.count
        countLocked(records: 1, dataBytes: UInt64(dataLength))
        // The reader rings when it frees a slot (``flushKept()``).
        ring.producerSleeping.pointee.store(1, ordering: .sequentiallyConsistent)
        try flushKeptLocked()
    }

    /// Publishes kept records while the ring has room (the reader freed slots).
    ///
    /// - Throws: `.broken` when the reader's Head is impossible.
    func flushKept() throws(Failure) {
        lock.lock()
        defer { lock.unlock() }
        try flushKeptLocked()
    }

    private func flushKeptLocked() throws(Failure) {
        guard !kept.isEmpty else { return }
        var requested: UInt32 = 0
        var moved = 0
        var bytes = 0
        defer {
            kept.removeFirst(moved)
            keptBytes -= bytes
            quota.refundPool(bytes: bytes)
            if kept.isEmpty { ring.producerSleeping.pointee.store(0, ordering: .relaxed) }
            wakeReaderLocked(requested)
        }
        while moved < kept.count {
            let slot: UnsafeMutableRawPointer?
            do throws(NTStatus) {
                slot = try producer.reserve()
            } catch {
                throw .broken(.portDisconnected)
            }
            guard let slot else { break }
            kept[moved].withUnsafeBytes { slot.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            requested |= producer.publish()
            bytes += kept[moved].count
            moved += 1
        }
    }

    /// Counts records written. Holding the lock.
    @inline(__always)
    private func countLocked(records: UInt64, dataBytes: UInt64) {
        if traffic.records == 0 { listTrafficLocked() }
        traffic.records &+= records
        traffic.dataBytes &+= dataBytes
    }

    /// Lists the writer, which has written something since it was last collected. Holding the
    /// lock.
    @inline(never)
    private func listTrafficLocked() {
        trafficList?.list(self)
    }

    /// What was written since the last call (published, or kept to be published).
    func takeTraffic() -> Traffic {
        lock.withLock {
            defer { traffic = Traffic() }
            return traffic
        }
    }

    /// Drops the kept records (the connection ended) and gives their bytes back to the pool.
    func discardKept() {
        lock.withLock {
            quota.refundPool(bytes: keptBytes)
            kept.removeAll()
            keptBytes = 0
        }
    }

    // MARK: Waking the reader

    /// Wakes the reader as it asked in the ring's ConsumerSleeping word (``WakeRequest``): on
    /// the futex, or through its doorbell. Holding the lock.
    @inline(__always)
    private func wakeReaderLocked(_ requested: UInt32) {
        guard requested != 0 else { return }
        if requested & WakeRequest.futex != 0 { _ = alpc_futex_wake(ring.tailAddress, Int32.max) }
        if requested & WakeRequest.doorbell != 0 { readerDoorbell?.ring() }
    }

    /// ``wakeReaderLocked(_:)`` once the lock was given up: it is taken again, for the doorbell
    /// it guards (a reader that asked to be woken sleeps, and waking it is a system call,
    /// which costs more than the lock).
    @inline(__always)
    private func wakeReader(_ requested: UInt32) {
        guard requested != 0 else { return }
        wakeSleepingReader(requested)
    }

    @inline(never)
    private func wakeSleepingReader(_ requested: UInt32) {
        lock.withLock { wakeReaderLocked(requested) }
    }

    /// Keeps the doorbell a reader sent, and rings it when the reader has records unread: one
    /// published before it was kept may have found the reader asking for it.
    func installReaderDoorbell(_ bell: consuming Doorbell) {
        lock.lock()
        defer { lock.unlock() }
        readerDoorbell = consume bell
        if ring.tail.pointee.load(ordering: .relaxed) != ring.head.pointee.load(ordering: .acquiring) {
            readerDoorbell?.ring()
        }
    }

    /// Rings the reader's doorbell, if it has one: it is told to look (the writer freed a slot
    /// of the other ring that the reader waits for, or the connection ends).
    func ringReaderDoorbell() {
        lock.withLock { readerDoorbell?.ring() }
    }

    // MARK: Control packets between records

    /// Sends `packet`, with `fds`, on `control` between two records, never between a record
    /// and the packets that precede it.
    func sendBetweenRecords(
        _ packet: ControlPacket, fds: [Int32] = [], on control: borrowing ControlSocket, timeout: Duration?
    ) throws(NTStatus) {
        try lock.withLock { () throws(NTStatus) in try control.send(packet, fds: fds, timeout: timeout) }
    }


    /// Tells the peer, if it was sent this process's section `id`, that the section was deleted,
    /// unless the connection `isOpen` says it ended. Best effort: a peer whose socket is full
    /// keeps its mapping until the connection ends.
    func notifySectionDeleted(_ id: UInt64, on control: borrowing ControlSocket, isOpen: () -> Bool) {
        lock.withLock {
            guard sentSections.remove(id) != nil, isOpen() else { return }
            try? control.send(.releaseSection(id: id), timeout: .zero)
        }
    }
}
