/// A direct-mapped table indexed by MessageId: entry `id % count` for MessageId `id`.
/// MessageIds are handed out in sequence, so the last `count` messages occupy distinct
/// entries, and finding one hashes nothing. A buffer of its own: an array would check its
/// uniqueness on every write.
struct MessageIdTable<Entry: ~Copyable>: ~Copyable {
    private let entries: UnsafeMutablePointer<Entry>
    /// The number of entries less one (they are a power of two).
    private let mask: Int

    /// A table of `count` entries (a power of two), each made by `make`.
    init(count: Int, _ make: () -> Entry) {
        precondition(count > 0 && count & (count - 1) == 0, "a table's size is a power of two")
        mask = count - 1
        entries = .allocate(capacity: count)
        for index in 0..<count { (entries + index).initialize(to: make()) }
    }

    /// How many entries.
    var count: Int { mask + 1 }

    deinit {
        entries.deinitialize(count: count)
        entries.deallocate()
    }

    /// The entry of MessageId `messageId`.
    @inline(__always)
    func entry(for messageId: UInt32) -> UnsafeMutablePointer<Entry> {
        entries + (Int(messageId) & mask)
    }

    /// The entry at `index` (below ``count``), for a pass over every entry.
    @inline(__always)
    func entry(at index: Int) -> UnsafeMutablePointer<Entry> {
        entries + index
    }
}
