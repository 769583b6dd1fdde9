import CBaselines

/// The C baselines, each run between the bench process and a child the call forks and reaps.
enum Baselines {
    /// The C transport for a round-trip baseline.
    static func cTransport(_ transport: BenchTransport) -> bl_transport? {
        switch transport {
        case .udsSeqpacket: BL_UDS_SEQPACKET
        case .pipe: BL_PIPE
        case .futex: BL_FUTEX
        case .spin: BL_SPIN
        case .alpc, .alpcC, .alpcAsync, .alpcBatch, .ring: nil
        }
    }

    /// Runs `warmup` + `samples.count` round trips of `payload` bytes each way and writes one
    /// round-trip time per timed iteration into `samples`. Bounded: the C side gives up after
    /// 3 s without progress.
    static func roundTrips(
        _ transport: BenchTransport, payload: Int, warmup: Int, cpus: CPUAssignment, idleGapNanos: UInt64,
        into samples: UnsafeMutableBufferPointer<UInt64>
    ) throws(BenchError) {
        guard let cTransport = cTransport(transport) else {
            preconditionFailure("\(transport.rawValue) is not a round-trip baseline")
        }
        let rc = bl_roundtrip(
            cTransport, payload, UInt64(warmup), UInt64(samples.count),
            cpus.requester, cpus.responder, idleGapNanos, samples.baseAddress)
        if rc != 0 {
            if BenchSignals.interrupted { throw .interrupted }
            throw .baseline(what: "\(transport.rawValue) \(ByteCount(payload)) round trips", errno: -rc)
        }
    }

    /// One-way throughput of `count` messages of `payload` bytes through the shared-memory
    /// ring, produced on the requester's CPU and consumed on the responder's (as ALPC's
    /// datagrams go from the bench process to the peer). Returns the elapsed nanoseconds.
    static func datagramRing(payload: Int, count: Int, cpus: CPUAssignment) throws(BenchError) -> UInt64 {
        var elapsed: UInt64 = 0
        let rc = bl_datagram_ring(payload, UInt64(count), cpus.requester, cpus.responder, nil, &elapsed)
        if rc != 0 {
            if BenchSignals.interrupted { throw .interrupted }
            throw .baseline(what: "ring \(ByteCount(payload)) datagrams", errno: -rc)
        }
        return elapsed
    }
}
