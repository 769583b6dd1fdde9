#if canImport(Glibc)
import Glibc
#endif

/// How long and how much `alpc bench` measures.
struct BenchPlan: Sendable {
    /// Rounds; each runs one batch of every cell.
    let rounds: Int
    /// The wall time one batch aims at (iterations adapt to it).
    let batchNanos: UInt64
    /// Connects timed per round.
    let connectsPerRound: Int
    /// No round starts when it would likely end after this much time since the start.
    let wallLimitNanos: UInt64
    /// How long each CPU is watched for host stalls before the rounds.
    let stallWatchNanos: UInt64

    let payloads = [64, 4 << 10, 1 << 20]
    let datagramPayload = 64
    let connectPayload = 64

    /// About 40 s of measuring; the whole run stays under 60 s.
    static let standard = BenchPlan(
        rounds: 10, batchNanos: 200_000_000, connectsPerRound: 20, wallLimitNanos: 50_000_000_000,
        stallWatchNanos: 500_000_000)
    /// About 5 s of measuring; the whole run stays under 10 s.
    static let quick = BenchPlan(
        rounds: 5, batchNanos: 60_000_000, connectsPerRound: 20, wallLimitNanos: 8_000_000_000,
        stallWatchNanos: 200_000_000)
}

/// One cell's schedule and results.
private struct ScheduledCell {
    var result: CellResult
    /// Timed operations per batch: round trips, connects or messages.
    var iterations: Int
    /// Recorded ALPC batches that stopped at their time limit.
    var stoppedEarly = 0
    var key: CellKey { result.key }
}

/// Runs the plan: calibration, then interleaved rounds, each a batch of every cell.
final class BenchRun {
    let plan: BenchPlan
    let cpus: CPUAssignment
    let idleGapNanos: UInt64
    let alpc: AlpcRoundTrips
    let alpcC: AlpcCRoundTrips
    /// What a requested sleep of `idleGapNanos` really takes, measured once.
    private var sleepCostNanos: UInt64 = 0
    private var cells: [ScheduledCell] = []
    private let samples = SampleBuffer()
    private(set) var notes: [String] = []
    private(set) var roundsDone = 0

    init(plan: BenchPlan, cpus: CPUAssignment, idleGapNanos: UInt64, alpc: AlpcRoundTrips, alpcC: AlpcCRoundTrips) {
        self.plan = plan
        self.cpus = cpus
        self.idleGapNanos = idleGapNanos
        self.alpc = alpc
        self.alpcC = alpcC
        for payload in plan.payloads {
            if let method = AlpcRoundTrips.method(forPayload: payload) {
                add(.alpc, .roundtrip, payload, iterations: 200)
                if method == .inlineMessage {
                    add(.alpcC, .roundtrip, payload, iterations: 200)
                    add(.alpcAsync, .roundtrip, payload, iterations: 200)
                }
                if let note = AlpcRoundTrips.methodNote(payload: payload) { notes.append(note) }
            } else {
                notes.append(AlpcRoundTrips.notMeasuredReason(payload: payload))
            }
            for transport in BenchTransport.roundTripBaselines {
                add(transport, .roundtrip, payload, iterations: 200)
            }
        }
        add(.alpc, .datagram, plan.datagramPayload, iterations: 20_000)
        add(.alpcBatch, .datagram, plan.datagramPayload, iterations: 20_000)
        add(.ring, .datagram, plan.datagramPayload, iterations: 20_000)
        add(.alpc, .connect, plan.connectPayload, iterations: plan.connectsPerRound)
    }

    private func add(_ transport: BenchTransport, _ mode: BenchMode, _ payload: Int, iterations: Int) {
        cells.append(ScheduledCell(result: CellResult(key: CellKey(transport: transport, mode: mode, payload: payload)), iterations: iterations))
    }

    var results: [CellResult] { cells.map(\.result) }

    /// Calibrates, then runs the rounds; progress goes to standard error.
    func run(start: UInt64) throws(BenchError) {
        if idleGapNanos > 0 { sleepCostNanos = measureSleep() }
        progress("calibrating \(cells.count) cells (\(cpus))")
        for index in cells.indices {
            try BenchSignals.checkInterrupted()
            try runBatch(&cells[index], record: false)
        }
        var lastRound: UInt64 = 0
        for round in 0..<plan.rounds {
            let roundStart = BenchClock.now()
            if round > 0 && roundStart &- start &+ lastRound > plan.wallLimitNanos {
                notes.append("Stopped after \(round) of \(plan.rounds) rounds to stay within the time limit.")
                break
            }
            // Rotate the order so that no cell always follows the same one.
            for step in cells.indices {
                try BenchSignals.checkInterrupted()
                try runBatch(&cells[(round + step) % cells.count], record: true)
            }
            roundsDone = round + 1
            lastRound = BenchClock.now() &- roundStart
            progress(roundLine(round: round, duration: lastRound, total: BenchClock.now() &- start))
        }
    }

    private func roundLine(round: Int, duration: UInt64, total: UInt64) -> String {
        var line = "round \(round + 1)/\(plan.rounds) done in \(fixed(Double(duration) / 1e9, 1)) s (\(fixed(Double(total) / 1e9, 1)) s in all)"
        let small = plan.payloads[0]
        var parts: [String] = []
        for transport in [BenchTransport.alpc, .futex, .spin] {
            if let cell = cells.first(where: { $0.key == CellKey(transport: transport, mode: .roundtrip, payload: small) }) {
                parts.append("\(transport.rawValue) \(fixed(Double(cell.result.p50) / 1e3, 2)) us")
            }
        }
        if !parts.isEmpty { line += "; p50 at \(ByteCount(small)) so far: " + parts.joined(separator: ", ") }
        return line
    }

    /// Runs one batch of `cell`, records it when `record`, and adapts the cell's iterations so
    /// that the next batch takes about `plan.batchNanos`.
    private func runBatch(_ cell: inout ScheduledCell, record: Bool) throws(BenchError) {
        let key = cell.key
        let iterations = cell.iterations
        let warmup = Self.warmup(for: iterations)
        let wallStart = BenchClock.now()
        // Nanoseconds the timed operations took, and the cost of one operation in wall time.
        let timed: UInt64
        let perOperation: Double
        switch (key.transport, key.mode) {
        case (.alpc, .roundtrip), (.alpcC, .roundtrip), (.alpcAsync, .roundtrip):
            let buffer = samples.prefix(iterations)
            let what = "\(key.transport.rawValue) \(ByteCount(key.payload)) round trips"
            let done = try BenchSignals.withWatchdog(seconds: watchdogSeconds, what: what) { () throws(BenchError) -> Int in
                let deadline = batchDeadline(wallStart)
                if key.transport == .alpcC {
                    return try alpcC.roundTrips(
                        payload: key.payload, warmup: warmup, idleGapNanos: idleGapNanos, deadline: deadline, into: buffer)
                }
                if key.transport == .alpcAsync {
                    return try alpc.asyncRoundTrips(
                        payload: key.payload, warmup: warmup, idleGapNanos: idleGapNanos, deadline: deadline, into: buffer)
                }
                return try alpc.roundTrips(
                    payload: key.payload, warmup: warmup, idleGapNanos: idleGapNanos, deadline: deadline, into: buffer)
            }
            let recorded = UnsafeMutableBufferPointer(rebasing: buffer[0..<done])
            timed = recorded.reduce(0, &+)
            perOperation = Double(timed) / Double(max(done, 1)) + Double(sleepCostNanos)
            if record {
                cell.result.record(samples: recorded)
                if done < iterations { cell.stoppedEarly += 1 }
            }
        case (_, .roundtrip):
            let buffer = samples.prefix(iterations)
            try Baselines.roundTrips(
                key.transport, payload: key.payload, warmup: warmup, cpus: cpus, idleGapNanos: idleGapNanos, into: buffer)
            timed = buffer.reduce(0, &+)
            perOperation = Double(timed) / Double(iterations) + Double(sleepCostNanos)
            if record { cell.result.record(samples: buffer) }
        case (.alpc, .datagram), (.alpcBatch, .datagram):
            let grouped = key.transport == .alpcBatch
            let (sent, elapsed) = try BenchSignals.withWatchdog(seconds: watchdogSeconds, what: "alpc datagrams") { () throws(BenchError) in
                _ = try alpc.datagrams(payload: key.payload, count: warmup * 10, grouped: grouped, deadline: batchDeadline(wallStart))
                return try alpc.datagrams(payload: key.payload, count: iterations, grouped: grouped, deadline: batchDeadline(wallStart))
            }
            timed = elapsed
            perOperation = Double(timed) / Double(max(sent, 1))
            if record {
                cell.result.record(messages: UInt64(sent), elapsed: timed)
                if sent < iterations { cell.stoppedEarly += 1 }
            }
        case (_, .datagram):
            timed = try Baselines.datagramRing(payload: key.payload, count: iterations, cpus: cpus)
            perOperation = Double(timed) / Double(iterations)
            if record { cell.result.record(messages: UInt64(iterations), elapsed: timed) }
        case (_, .connect):
            let buffer = samples.prefix(iterations)
            try BenchSignals.withWatchdog(seconds: watchdogSeconds, what: "alpc connects") { () throws(BenchError) in
                try alpc.connects(payload: key.payload, warmup: 2, into: buffer)
            }
            if record { cell.result.record(samples: buffer) }
            return  // a fixed number per round
        }
        let wall = BenchClock.now() &- wallStart
        cell.iterations = Self.nextIterations(
            current: iterations, wall: wall, perOperation: perOperation, budget: plan.batchNanos, mode: key.mode)
    }

    /// When an ALPC batch that started at `start` stops even if unfinished: at 5 times the
    /// budget, so that a batch sized while ALPC ran fast stays bounded when it runs slow.
    private func batchDeadline(_ start: UInt64) -> UInt64 {
        start &+ 5 &* plan.batchNanos
    }

    /// Footer lines about ALPC batches that stopped early.
    var stoppedEarlyNotes: [String] {
        cells.filter { $0.stoppedEarly > 0 }.map { cell in
            "\(cell.key.transport.rawValue) \(ByteCount(cell.key.payload)) \(cell.key.mode.rawValue): \(cell.stoppedEarly) of "
                + "\(cell.result.batches) batches stopped at 5x their time budget (ALPC ran much slower than in the batch before)."
        }
    }

    /// The untimed operations before a batch: 5%, at least 10, at most 2000.
    static func warmup(for iterations: Int) -> Int {
        min(max(iterations / 20, 10), 2000)
    }

    /// The iterations that make a batch last about `budget`, from the last batch: its wall
    /// time is a fixed cost (fork, warm-up) plus `perOperation` per operation.
    static func nextIterations(current: Int, wall: UInt64, perOperation: Double, budget: UInt64, mode: BenchMode) -> Int {
        let cost = max(perOperation, 1)
        let operations = Double(current + warmup(for: current))
        let fixedCost = max(0, Double(wall) - operations * cost)
        let room = max(Double(budget) - fixedCost, Double(budget) / 4)
        var next = room / cost
        next -= Double(warmup(for: Int(next)))
        next = min(next, Double(current) * 16)
        let (low, high) = mode == .datagram ? (10_000.0, 50_000_000.0) : (20.0, 4_000_000.0)
        return Int(min(max(next, low), high))
    }

    /// The watchdog for one ALPC batch: generous, but bounded.
    private var watchdogSeconds: UInt32 {
        UInt32(10 + 8 * plan.batchNanos / 1_000_000_000)
    }

    /// The mean wall time of a requested sleep of `idleGapNanos`.
    private func measureSleep() -> UInt64 {
        let count: UInt64 = 20
        let start = BenchClock.now()
        for _ in 0..<count { BenchClock.sleep(nanoseconds: idleGapNanos) }
        return (BenchClock.now() &- start) / count
    }
}

/// Writes a progress line to standard error.
func progress(_ line: String) {
    standardError("alpc bench: " + line + "\n")
}

/// Writes `text` to standard error, unbuffered.
func standardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// A reusable buffer of samples, grown as needed, never shrunk.
final class SampleBuffer {
    private var storage = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 1 << 16)

    /// The first `count` samples' room (its contents are overwritten by the next batch).
    func prefix(_ count: Int) -> UnsafeMutableBufferPointer<UInt64> {
        if count > storage.count {
            storage.deallocate()
            storage = .allocate(capacity: count)
        }
        // Touched before the timed loop, so that no page fault lands in it.
        let buffer = UnsafeMutableBufferPointer(rebasing: storage[0..<count])
        buffer.initialize(repeating: 0)
        return buffer
    }

    deinit {
        storage.deallocate()
    }
}
