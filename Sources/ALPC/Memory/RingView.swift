internal import CALPC
internal import CALPCSystem
internal import Synchronization

/// A view of one ring in a connection segment: its control block and its slots.
///
/// The view is a plain pointer bundle, valid while the segment that vends it is mapped. Indices
/// are free-running 32-bit slot counts; a slot's position is the index masked by the slot count.
struct RingView: @unchecked Sendable {
    let control: UnsafeMutableRawPointer
    let slots: UnsafeMutableRawPointer
    let slotSize: Int
    let slotCount: UInt32

    init(control: UnsafeMutableRawPointer, slots: UnsafeMutableRawPointer, geometry: SegmentGeometry) {
        self.control = control
        self.slots = slots
        self.slotSize = geometry.slotSize
        self.slotCount = UInt32(geometry.slotCount)
    }

    func word(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (control + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// Slots the producer has published (written by the producer).
    var tail: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.tailOffset) }
    /// 1 + the producer's CPU, with ``AdaptiveWait/asleepBit`` while it sleeps (0: not known yet).
    var producerCpu: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.producerCpuOffset) }
    /// Nonzero while the producer waits for a free slot.
    var producerSleeping: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.producerSleepingOffset) }
    /// Slots the consumer has released (written by the consumer).
    var head: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.headOffset) }
    /// 1 + the consumer's CPU, with ``AdaptiveWait/asleepBit`` while it sleeps (0: not known yet).
    var consumerCpu: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.consumerCpuOffset) }
    /// Nonzero while the consumer is not polling and wants to be woken: ``WakeRequest`` bits.
    var consumerSleeping: UnsafeMutablePointer<Atomic<UInt32>> { word(Self.consumerSleepingOffset) }

    /// The raw address of the futex word `tail`, for FUTEX_WAIT and FUTEX_WAKE.
    var tailAddress: UnsafeMutablePointer<UInt32> { (control + Self.tailOffset).assumingMemoryBound(to: UInt32.self) }
    /// The raw address of the futex word `head`.
    var headAddress: UnsafeMutablePointer<UInt32> { (control + Self.headOffset).assumingMemoryBound(to: UInt32.self) }

    // The words' offsets in ALPC_RING_CONTROL (segment.h checks them against the struct).
    private static var tailOffset: Int { Int(ALPC_RING_TAIL_OFFSET) }
    private static var producerCpuOffset: Int { Int(ALPC_RING_PRODUCER_CPU_OFFSET) }
    private static var producerSleepingOffset: Int { Int(ALPC_RING_PRODUCER_SLEEPING_OFFSET) }
    private static var headOffset: Int { Int(ALPC_RING_HEAD_OFFSET) }
    private static var consumerCpuOffset: Int { Int(ALPC_RING_CONSUMER_CPU_OFFSET) }
    private static var consumerSleepingOffset: Int { Int(ALPC_RING_CONSUMER_SLEEPING_OFFSET) }

    /// The slot at free-running index `index`.
    @inline(__always)
    func slot(_ index: UInt32) -> UnsafeMutableRawPointer {
        slots + Int(index & (slotCount &- 1)) &* slotSize
    }

    /// How many of a slot's first cache lines are fetched ahead: the slot header, the
    /// PORT_MESSAGE and a short message's data (a longer copy streams on its own).
    private static let linesFetchedAhead = 2

    /// The slot at `index`, its first lines asked for at once (a reader then waits for them
    /// together, not for one after the other: the header's, then the data's).
    @inline(__always)
    func prefetchForReading(_ index: UInt32) -> UnsafeMutableRawPointer {
        let slot = slot(index)
        for line in 0..<Self.linesFetchedAhead { alpc_prefetch_read(slot + line &* 64) }
        return slot
    }

    /// How the consumer asked to be woken (``WakeRequest`` bits; 0: it need not be), read after
    /// a sequentially consistent fence: the producer's half of the handshake with a consumer
    /// that sets the request, fences, then looks at Tail once more before it sleeps.
    @inline(__always)
    func fenceThenReadWakeRequest() -> UInt32 {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return consumerSleeping.pointee.load(ordering: .relaxed)
    }

    /// Whether the producer waits for a free slot, read after a sequentially consistent fence:
    /// the consumer's half of the handshake with a producer that sets ProducerSleeping, fences,
    /// then looks at Head once more before it sleeps.
    @inline(__always)
    func fenceThenReadProducerSleeping() -> Bool {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return producerSleeping.pointee.load(ordering: .relaxed) != 0
    }

    /// Asks for the first lines of the slot at `index`, to be written soon.
    @inline(__always)
    func prefetchForWriting(_ index: UInt32) {
        let slot = slot(index)
        for line in 0..<Self.linesFetchedAhead { alpc_prefetch_write(slot + line &* 64) }
    }
}

/// How a consumer that does not poll its ring wants to be woken when a record is published
/// (bits of the ring's `ConsumerSleeping` word).
enum WakeRequest {
    /// It sleeps on the ring's Tail word: `FUTEX_WAKE`.
    static let futex: UInt32 = 1
    /// It waits in epoll on its doorbell (a server that does not poll the ring, a client whose
    /// application polls its connection): ring the reader's doorbell.
    static let doorbell: UInt32 = 2
}

/// The producing end of a ring, owned by one side (under that side's send lock).
struct RingProducer: @unchecked Sendable {
    let ring: RingView
    /// The next slot to publish; only this side writes the shared tail.
    var tail: UInt32 = 0
    /// The consumer's head as last read.
    var cachedHead: UInt32 = 0

    init(ring: RingView) { self.ring = ring }

    /// A free slot to fill, or nil when the ring is full. Throws when the peer's head is impossible.
    mutating func reserve() throws(NTStatus) -> UnsafeMutableRawPointer? {
        if tail &- cachedHead >= ring.slotCount, try refreshHead() == 0 { return nil }
        return ring.slot(tail)
    }

    /// Reads the consumer's Head into the cache; returns how many slots are free. Throws
    /// `.invalidMessage` for a Head more than a ring's worth behind the tail (or ahead of it).
    @inline(__always)
    private mutating func refreshHead() throws(NTStatus) -> UInt32 {
        let head = ring.head.pointee.load(ordering: .acquiring)
        guard tail &- head <= ring.slotCount else { throw .invalidMessage }
        cachedHead = head
        return ring.slotCount &- (tail &- head)
    }

    /// Publishes the reserved slot. Returns how the consumer asked to be woken
    /// (``WakeRequest`` bits; 0: it need not be).
    @inline(__always)
    mutating func publish() -> UInt32 {
        publish(count: 1)
    }

    /// How many slots, at most `count`, are free to fill from the next one on (see
    /// ``slot(after:)``). Throws when the peer's head is impossible.
    mutating func freeSlots(upTo count: Int) throws(NTStatus) -> Int {
        let wanted = UInt32(clamping: count)
        var free = ring.slotCount &- (tail &- cachedHead)
        if free < wanted { free = try refreshHead() }
        return Int(min(wanted, free))
    }

    /// The free slot `offset` places after the next one to publish.
    func slot(after offset: Int) -> UnsafeMutableRawPointer {
        ring.slot(tail &+ UInt32(truncatingIfNeeded: offset))
    }

    /// Publishes `count` filled slots (from the next one on) with one store. Returns how the
    /// consumer asked to be woken (``WakeRequest`` bits; 0: it need not be).
    @inline(__always)
    mutating func publish(count: Int) -> UInt32 {
        publishUnfenced(count: count)
        return ring.fenceThenReadWakeRequest()
    }

    /// Publishes `count` filled slots with one store, leaving the fence after it, and the read
    /// of the consumer's wake request, to ``RingView/fenceThenReadWakeRequest()``: a writer
    /// releases its lock in between, sharing that fence.
    @inline(__always)
    mutating func publishUnfenced(count: Int = 1) {
        tail &+= UInt32(truncatingIfNeeded: count)
        ring.tail.pointee.store(tail, ordering: .releasing)
        // The next record's first lines, owned now: the consumer's copies (it read them a ring
        // ago) are invalidated while this side waits for its fence, not when it writes there.
        if tail &- cachedHead < ring.slotCount { ring.prefetchForWriting(tail) }
    }
}

/// The consuming end of a ring, owned by one side (under that side's receive lock).
struct RingConsumer: @unchecked Sendable {
    let ring: RingView
    /// The next slot to read; only this side writes the shared head.
    var head: UInt32 = 0
    /// The producer's tail as last read.
    var cachedTail: UInt32 = 0

    init(ring: RingView) { self.ring = ring }

    /// The oldest published slot, or nil when the ring is empty. Throws when the peer's tail is impossible.
    @inline(__always)
    mutating func peek() throws(NTStatus) -> UnsafeMutableRawPointer? {
        if cachedTail == head, try refreshTail() == 0 { return nil }
        return ring.prefetchForReading(head)
    }

    /// The published slot `offset` places after the oldest, or nil when fewer are published.
    /// Throws when the peer's tail is impossible.
    ///
    /// A batch reads its records one after the other: the lines of the record
    /// ``batchLookahead`` places further are asked for now, when it is published, so that they
    /// travel from the writer's cache while the records before it are delivered.
    mutating func peek(after offset: Int) throws(NTStatus) -> UnsafeMutableRawPointer? {
        let position = UInt32(truncatingIfNeeded: offset)
        if cachedTail &- head <= position, try refreshTail() <= position {
            return nil
        }
        if cachedTail &- head > position &+ Self.batchLookahead {
            _ = ring.prefetchForReading(head &+ position &+ Self.batchLookahead)
        }
        return ring.prefetchForReading(head &+ position)
    }

    /// How many records ahead of the one it delivers a batch asks for.
    static let batchLookahead: UInt32 = 6

    /// Releases the `count` oldest slots with one store. Returns true when the producer asked
    /// to be woken.
    mutating func release(count: Int) -> Bool {
        head &+= UInt32(truncatingIfNeeded: count)
        ring.head.pointee.store(head, ordering: .releasing)
        return ring.fenceThenReadProducerSleeping()
    }

    /// How many records are published and not yet released, at most `limit`, reading Tail; the
    /// lines of the first ones after the oldest (up to ``batchLookahead``) are asked for, as a
    /// batch about to read them.
    ///
    /// - Throws: `.invalidMessage` for a Tail more than a ring's worth ahead.
    mutating func published(upTo limit: Int) throws(NTStatus) -> Int {
        let published = min(limit, Int(try refreshTail()))
        var position: UInt32 = 1
        while position <= Self.batchLookahead && Int(position) < published {
            _ = ring.prefetchForReading(head &+ position)
            position &+= 1
        }
        return published
    }

    /// Reads the producer's Tail into the cache; returns how many records are published and
    /// not yet released. Throws `.invalidMessage` for a Tail more than a ring's worth ahead.
    @inline(__always)
    private mutating func refreshTail() throws(NTStatus) -> UInt32 {
        let tail = ring.tail.pointee.load(ordering: .acquiring)
        guard tail &- head <= ring.slotCount else { throw .invalidMessage }
        cachedTail = tail
        return tail &- head
    }

    /// True when a slot is published (without reading it).
    var hasRecord: Bool {
        mutating get { (try? peek()).flatMap { $0 } != nil }
    }

    /// Releases the slot returned by `peek`. Returns true when the producer asked to be woken.
    mutating func release() -> Bool {
        releaseUnfenced()
        return ring.fenceThenReadProducerSleeping()
    }

    /// Releases the slot returned by `peek` with one store, leaving the fence after it, and the
    /// read of whether the producer sleeps, to ``RingView/fenceThenReadProducerSleeping()``: a
    /// reader gives up its consumer role in between, sharing that fence.
    @inline(__always)
    mutating func releaseUnfenced() {
        head &+= 1
        ring.head.pointee.store(head, ordering: .releasing)
    }
}
