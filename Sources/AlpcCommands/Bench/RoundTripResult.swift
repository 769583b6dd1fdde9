import Histogram

/// A transport measured by `alpc bench`, by its JSON name.
enum BenchTransport: String, CaseIterable, Sendable {
    case alpc
    /// ALPC from C: NtAlpcSendWaitReceivePort through the C API, against the same peer.
    case alpcC = "alpc-c"
    /// ALPC from Swift concurrency: the async sendReceive, on a task.
    case alpcAsync = "alpc-async"
    /// ALPC datagrams sent in groups (sendDatagrams) and drained in batches (receive(upTo:)).
    case alpcBatch = "alpc-batch"
    case udsSeqpacket = "uds-seqpacket"
    case pipe
    case futex
    case spin
    /// The datagram baseline: a one-way shared-memory SPSC ring.
    case ring

    /// The round-trip baselines, in table order (fastest kinds last, the floor at the end).
    static let roundTripBaselines: [BenchTransport] = [.udsSeqpacket, .pipe, .futex, .spin]
}

/// What a measurement times.
enum BenchMode: String, Sendable {
    /// One synchronous request and its reply.
    case roundtrip
    /// One-way 64-byte messages; a sample is one batch's time per message.
    case datagram
    /// Connect, one request and its reply (the disconnect is not timed).
    case connect
}

/// One cell of the report: a transport, a mode and a payload size.
struct CellKey: Hashable, Sendable {
    let transport: BenchTransport
    let mode: BenchMode
    let payload: Int
}

/// Everything measured for one cell, accumulated across rounds.
struct CellResult {
    let key: CellKey
    /// Nanoseconds per sample: one round trip, one connect, or (datagrams) one batch's
    /// elapsed time divided by its message count.
    private(set) var histogram = Histogram<UInt64>(
        highestTrackableValue: CellResult.highestTrackable, numberOfSignificantValueDigits: .three)
    /// The exact sum of the samples, for the mean.
    private(set) var sampleSum: UInt64 = 0
    /// Operations done in the timed parts (round trips, connects or messages).
    private(set) var operations: UInt64 = 0
    /// Nanoseconds the timed operations took, for datagram throughput.
    private(set) var elapsedNanos: UInt64 = 0
    /// Batches recorded.
    private(set) var batches = 0

    static let highestTrackable: UInt64 = 3_600_000_000_000

    init(key: CellKey) { self.key = key }

    /// Records one batch of per-operation samples (round trips or connects).
    mutating func record(samples: UnsafeMutableBufferPointer<UInt64>) {
        var sum: UInt64 = 0
        for sample in samples {
            histogram.record(min(sample, Self.highestTrackable))
            sum &+= sample
        }
        sampleSum &+= sum
        operations &+= UInt64(samples.count)
        elapsedNanos &+= sum
        batches += 1
    }

    /// Records one batch of `count` messages that took `elapsed` nanoseconds.
    mutating func record(messages count: UInt64, elapsed: UInt64) {
        guard count > 0 else { return }
        let perMessage = max(1, (elapsed + count / 2) / count)
        histogram.record(min(perMessage, Self.highestTrackable))
        sampleSum &+= perMessage
        operations &+= count
        elapsedNanos &+= elapsed
        batches += 1
    }

    var sampleCount: UInt64 { histogram.totalCount }
    var p50: UInt64 { histogram.valueAtPercentile(50) }
    var p99: UInt64 { histogram.valueAtPercentile(99) }
    var p999: UInt64 { histogram.valueAtPercentile(99.9) }

    /// Operations per second: 1e9 / mean for round trips and connects, messages / elapsed
    /// for datagrams.
    var operationsPerSecond: Double {
        switch key.mode {
        case .roundtrip, .connect:
            guard sampleCount > 0, sampleSum > 0 else { return 0 }
            return 1e9 * Double(sampleCount) / Double(sampleSum)
        case .datagram:
            guard elapsedNanos > 0 else { return 0 }
            return 1e9 * Double(operations) / Double(elapsedNanos)
        }
    }
}
