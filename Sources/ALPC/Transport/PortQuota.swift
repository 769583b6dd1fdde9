internal import CALPC
internal import Synchronization

internal import Glibc

/// The bounds a port puts on what its peers can make this process hold, and what they hold
/// now: the sections they send (count, bytes, views), the descriptors they send ahead of
/// their records, and the messages queued for them or from them.
///
/// The port attributes' own limits (`MaxSectionSize`, `MaxViewSize`, `MaxTotalSectionSize`,
/// `MaxPoolUsage`) bound what one peer sends, as they bound what the port creates; the
/// library's own bounds keep any one peer from taking more than its share of the process's
/// descriptors, address space and memory. A server's connections share one quota; each client
/// connection has its own. The counters are atomics, charged and refunded by the connections.
/// See the "Quotas" article for every bound and its default.
final class PortQuota: Sendable {
    /// The largest section a peer may send (`MaxSectionSize`).
    let maxSectionSize: UInt64
    /// The largest view of a received section a peer may name (`MaxViewSize`).
    let maxViewSize: UInt64
    /// The most bytes of sections one peer may have registered at once (`MaxTotalSectionSize`).
    let maxTotalSectionSize: UInt64
    /// The most sections one peer may have registered at once.
    let maxSectionsPerPeer: Int
    /// The most bytes of sections all the port's peers may have registered at once: the
    /// address space their views may take in this process.
    let maxPortSectionBytes: UInt64
    /// The most descriptors one peer may make this process hold for it (sections, and
    /// descriptors sent ahead of records not yet read).
    let maxDescriptorsPerPeer: Int
    /// The most descriptors all the port's peers may make this process hold.
    let maxPortDescriptors: Int
    /// The most bytes of messages queued for or from all the port's peers (`MaxPoolUsage`,
    /// at most ``poolCeiling``).
    let maxPoolUsage: Int
    /// The most bytes of messages queued for or from one peer.
    let maxPoolUsagePerPeer: Int
    /// The most messages queued for or from one peer.
    let maxQueuedPerPeer: Int

    /// Bytes of sections registered by the port's peers.
    private let sectionBytes = Atomic<Int>(0)
    /// Descriptors held for the port's peers.
    private let descriptors = Atomic<Int>(0)
    /// Bytes of messages queued for or from the port's peers.
    private let pooled = Atomic<Int>(0)

    /// The most bytes of sections a port's peers may register together, by default.
    static let defaultPortSectionBytes: UInt64 = 256 << 30
    /// The most bytes of messages a port queues, whatever its `MaxPoolUsage`.
    static let poolCeiling = 256 << 20
    /// The most sections one peer may register, by default.
    static let defaultSectionsPerPeer = 256
    /// The most messages queued for or from one peer, by default.
    static let defaultQueuedPerPeer = 4096

    /// A quota from the port attributes' limits and the process's descriptor limit. Every
    /// bound may be lowered by the arguments (tests lower them to reach them quickly).
    init(
        attributes: PortAttributes, maxSectionsPerPeer: Int = PortQuota.defaultSectionsPerPeer,
        maxPortSectionBytes: UInt64 = PortQuota.defaultPortSectionBytes,
        descriptorLimit: Int = PortQuota.softDescriptorLimit(), maxQueuedPerPeer: Int = PortQuota.defaultQueuedPerPeer
    ) {
        let raw = attributes.raw
        maxSectionSize = min(raw.MaxSectionSize, UInt64(SectionTable.maxReceivedSize))
        maxViewSize = raw.MaxViewSize
        maxTotalSectionSize = raw.MaxTotalSectionSize
        self.maxSectionsPerPeer = maxSectionsPerPeer
        self.maxPortSectionBytes = maxPortSectionBytes
        // One peer: a quarter of the process's descriptors; all the port's peers: half, so that
        // the process keeps descriptors to accept, refuse and serve with.
        maxDescriptorsPerPeer = max(16, descriptorLimit / 4)
        maxPortDescriptors = max(32, descriptorLimit / 2)
        maxPoolUsage = Int(min(raw.MaxPoolUsage, UInt64(Self.poolCeiling)))
        maxPoolUsagePerPeer = max(maxPoolUsage / 4, min(maxPoolUsage, 1 << 20))
        self.maxQueuedPerPeer = maxQueuedPerPeer
    }

    /// The process's soft RLIMIT_NOFILE (1024 when unknown or unlimited beyond Int).
    static func softDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)
    }

    // MARK: Charging

    /// Charges `bytes` of sections to the port. False (nothing charged) beyond its bound.
    func chargeSection(bytes: UInt64) -> Bool {
        bytes <= maxPortSectionBytes && Self.charge(sectionBytes, Int(bytes), limit: Int(maxPortSectionBytes))
    }

    /// Refunds `bytes` of sections.
    func refundSection(bytes: UInt64) {
        sectionBytes.subtract(Int(bytes), ordering: .relaxed)
    }

    /// Charges `count` descriptors to the port. False (nothing charged) beyond its bound.
    func chargeDescriptors(_ count: Int) -> Bool {
        Self.charge(descriptors, count, limit: maxPortDescriptors)
    }

    /// Refunds `count` descriptors.
    func refundDescriptors(_ count: Int) {
        descriptors.subtract(count, ordering: .relaxed)
    }

    /// Charges `bytes` of queued messages to the port. False (nothing charged) beyond its bound.
    func chargePool(bytes: Int) -> Bool {
        Self.charge(pooled, bytes, limit: maxPoolUsage)
    }

    /// Refunds `bytes` of queued messages.
    func refundPool(bytes: Int) {
        pooled.subtract(bytes, ordering: .relaxed)
    }

    /// What the port's peers hold now (for tests and diagnostics).
    var usage: (sectionBytes: UInt64, descriptors: Int, pooled: Int) {
        (UInt64(sectionBytes.load(ordering: .relaxed)), descriptors.load(ordering: .relaxed), pooled.load(ordering: .relaxed))
    }

    private static func charge(_ counter: borrowing Atomic<Int>, _ amount: Int, limit: Int) -> Bool {
        var current = counter.load(ordering: .relaxed)
        while true {
            guard amount >= 0, amount <= limit, current <= limit - amount else { return false }
            let (exchanged, original) = counter.compareExchange(
                expected: current, desired: current + amount, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }
}
