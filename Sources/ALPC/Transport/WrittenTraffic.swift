/// What a server's connections wrote (their replies) that the port's counters have not been
/// told of.
///
/// Each connection's ``RecordWriter`` counts what it writes under its own lock, which a reply
/// takes anyway, and lists itself here with the first record after it was last collected; the
/// receiver collects from the listed writers when it tells the counters. A reply costs no
/// atomic operation of its own, and no connection that wrote nothing is looked at.
final class WrittenTraffic: Sendable {
    private let writers = LockedState<[RecordWriter]>([])

    /// Lists `writer`, which has something to tell (called holding its lock, once until it is
    /// collected).
    func list(_ writer: RecordWriter) {
        writers.withLock { $0.append(writer) }
    }

    /// Takes what every listed writer wrote since it was listed.
    func collect() -> RecordWriter.Traffic {
        let listed = writers.withLock { writers in
            defer { writers.removeAll(keepingCapacity: true) }
            return writers
        }
        var total = RecordWriter.Traffic()
        for writer in listed {
            let traffic = writer.takeTraffic()
            total.records &+= traffic.records
            total.dataBytes &+= traffic.dataBytes
        }
        return total
    }
}
