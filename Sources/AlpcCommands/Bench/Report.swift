/// The outcome of a whole `alpc bench` run, printed as a table or as JSON.
struct BenchReport {
    let cpus: CPUAssignment
    let idleGapNanos: UInt64
    let roundsPlanned: Int
    let roundsDone: Int
    let elapsedNanos: UInt64
    /// Payload sizes of the round-trip section, in order.
    let payloads: [Int]
    let datagramPayload: Int
    let connectPayload: Int
    /// Every cell measured, in report order.
    let results: [CellResult]
    /// Footer lines (what was not measured and why).
    let notes: [String]
    /// How often the run's CPUs were taken away from it, watched before it.
    let hostStalls: HostStalls

    private func result(_ transport: BenchTransport, _ mode: BenchMode, _ payload: Int) -> CellResult? {
        results.first { $0.key == CellKey(transport: transport, mode: mode, payload: payload) }
    }

    // MARK: Table

    /// The human-readable report.
    var table: String {
        var lines: [String] = []
        lines.append("alpc bench: request/reply between two processes; \(cpus)")
        let gap = idleGapNanos == 0 ? "none (back to back)" : "\(Nanos.text(idleGapNanos)) before each timed request"
        lines.append("idle gap: \(gap); \(roundsDone) of \(roundsPlanned) rounds, interleaved; \(fixed(Double(elapsedNanos) / 1e9, 1)) s")
        let stalls = hostStalls.cpus.map { "CPU \($0.cpu) \(Rate.text($0.perSecond))/s (mean \(Nanos.text($0.meanNanos)))" }
        lines.append(
            "host stalls (a thread reading the clock lost its CPU for more than \(Nanos.text(HostStalls.threshold))): "
                + stalls.joined(separator: ", "))
        lines.append("")

        lines.append("Round trips (one synchronous request and its reply, same size each way)")
        var rows: [[String]] = [["payload", "transport", "p50", "p99", "p99.9", "round trips/s", "samples", "alpc/x p50", "alpc/x p99"]]
        for payload in payloads {
            let alpc = result(.alpc, .roundtrip, payload)
            var first = true
            for transport in [BenchTransport.alpc, .alpcC, .alpcAsync] + BenchTransport.roundTripBaselines {
                guard let cell = result(transport, .roundtrip, payload) else { continue }
                var ratioP50 = "", ratioP99 = ""
                if BenchTransport.roundTripBaselines.contains(transport), let alpc, alpc.sampleCount > 0, cell.sampleCount > 0 {
                    ratioP50 = ratio(alpc.p50, cell.p50)
                    ratioP99 = ratio(alpc.p99, cell.p99)
                }
                rows.append([
                    first ? ByteCount(payload).description : "", transport.rawValue,
                    Nanos.text(cell.p50), Nanos.text(cell.p99), Nanos.text(cell.p999),
                    Rate.text(cell.operationsPerSecond), Rate.count(cell.sampleCount), ratioP50, ratioP99,
                ])
                first = false
            }
        }
        lines += Self.align(rows, rightAligned: [2, 3, 4, 5, 6, 7, 8])
        let comparisons: [(BenchTransport, String)] = [
            (.alpcC, "alpc-c (C through NtAlpcSendWaitReceivePort) / alpc (Swift API), p50: "),
            (.alpcAsync, "alpc-async (await sendReceive on a task) / alpc (blocking call), p50: "),
        ]
        for (other, label) in comparisons {
            let parts = payloads.compactMap { payload -> String? in
                guard let alpc = result(.alpc, .roundtrip, payload), let cell = result(other, .roundtrip, payload),
                    alpc.sampleCount > 0, cell.sampleCount > 0
                else { return nil }
                return "\(ByteCount(payload)) \(ratio(cell.p50, alpc.p50))"
            }
            if !parts.isEmpty { lines.append(label + parts.joined(separator: ", ")) }
        }
        lines.append("")

        lines.append(
            "One-way datagrams of \(ByteCount(datagramPayload)) (alpc: first send to the peer's count; "
                + "alpc-batch: sent in groups, drained in batches; ring: C SPSC ring)")
        rows = [["transport", "messages/s", "per message p50", "p99", "messages", "batches", "/ring rate"]]
        let ring = result(.ring, .datagram, datagramPayload)
        for transport in [BenchTransport.alpc, .alpcBatch, .ring] {
            guard let cell = result(transport, .datagram, datagramPayload) else { continue }
            var relative = ""
            if transport != .ring, let ring, ring.operationsPerSecond > 0 {
                relative = fixed(cell.operationsPerSecond / ring.operationsPerSecond, 2) + "x"
            }
            rows.append([
                transport.rawValue, Rate.text(cell.operationsPerSecond), Nanos.text(cell.p50), Nanos.text(cell.p99),
                Rate.count(cell.operations), String(cell.batches), relative,
            ])
        }
        lines += Self.align(rows, rightAligned: [1, 2, 3, 4, 5, 6])
        lines.append("")

        lines.append("Connect, then one \(ByteCount(connectPayload)) request and its reply (disconnect not timed)")
        rows = [["transport", "p50", "p99", "p99.9", "connects/s", "samples"]]
        if let cell = result(.alpc, .connect, connectPayload) {
            rows.append([
                "alpc", Nanos.text(cell.p50), Nanos.text(cell.p99), Nanos.text(cell.p999),
                Rate.text(cell.operationsPerSecond), Rate.count(cell.sampleCount),
            ])
        }
        lines += Self.align(rows, rightAligned: [1, 2, 3, 4, 5])
        lines.append("")

        lines.append("round trips/s = 1e9 / mean round trip; alpc/x = alpc's value divided by the baseline's (below 1: alpc is faster).")
        lines.append("spin is the floor: both sides busy-poll shared memory. Datagram percentiles are per-batch means.")
        lines += notes
        return lines.joined(separator: "\n")
    }

    private func ratio(_ numerator: UInt64, _ denominator: UInt64) -> String {
        guard denominator > 0 else { return "-" }
        return fixed(Double(numerator) / Double(denominator), 2) + "x"
    }

    /// Pads the columns of `rows` to a common width; columns in `rightAligned` align right.
    private static func align(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                if index > 0 { line += "  " }
                line += rightAligned.contains(index) ? padding + cell : cell + padding
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    // MARK: JSON

    /// A JSON array with one object per cell.
    var json: String {
        let objects = results.filter { $0.sampleCount > 0 }.map { cell in
            "  {\"transport\": \"\(cell.key.transport.rawValue)\", \"mode\": \"\(cell.key.mode.rawValue)\", "
                + "\"payload_bytes\": \(cell.key.payload), \"placement\": \"\(cpus.placement.jsonName)\", "
                + "\"p50_ns\": \(cell.p50), \"p99_ns\": \(cell.p99), \"p999_ns\": \(cell.p999), "
                + "\"ops_per_s\": \(fixed(cell.operationsPerSecond, 1))}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]"
    }
}

// MARK: Formatting

/// A byte count as "64 B", "4 KiB", "1 MiB".
struct ByteCount: CustomStringConvertible {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    var description: String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }
}

/// `value` with exactly `decimals` digits after the point (no Foundation).
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let whole = UInt64(scaled)
    let unit = UInt64(scale)
    var text = String(whole / unit)
    if decimals > 0 {
        let fraction = String(whole % unit)
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return value < 0 ? "-" + text : text
}

private enum Nanos {
    /// Nanoseconds with three significant digits: "312 ns", "1.23 us", "45.6 us", "2.10 ms".
    static func text(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds)
        switch value {
        case ..<1_000: return "\(nanoseconds) ns"
        case ..<1e6: return threeDigits(value / 1e3) + " us"
        case ..<1e9: return threeDigits(value / 1e6) + " ms"
        default: return threeDigits(value / 1e9) + " s"
        }
    }
}

private enum Rate {
    /// Operations per second: "812 k", "2.91 M".
    static func text(_ perSecond: Double) -> String {
        switch perSecond {
        case ..<1_000: return threeDigits(perSecond)
        case ..<1e6: return threeDigits(perSecond / 1e3) + " k"
        case ..<1e9: return threeDigits(perSecond / 1e6) + " M"
        default: return threeDigits(perSecond / 1e9) + " G"
        }
    }

    /// A count: "950", "12.3 k", "1.20 M".
    static func count(_ value: UInt64) -> String {
        value < 10_000 ? String(value) : text(Double(value))
    }
}

/// Three significant digits for a value in 1 ..< 1000.
private func threeDigits(_ value: Double) -> String {
    switch value {
    case ..<9.995: fixed(value, 2)
    case ..<99.95: fixed(value, 1)
    default: fixed(value, 0)
    }
}
