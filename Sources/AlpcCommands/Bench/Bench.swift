import ALPC
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

extension AlpcCommand {
    /// `alpc bench`: ALPC's round trip next to the Linux transports, in one run.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure ALPC round trips, datagrams and connects against Unix sockets, pipes, futex and spin baselines.",
            discussion: """
                Every measurement runs between two processes. ALPC: AlpcClient.sendReceive in this \
                process against an AlpcServer in a child process (`alpc bench-peer`) that sends each \
                request back; request and reply messages are allocated once and reused. alpc-c: the \
                same round trips from C through the C API (NtAlpcSendWaitReceivePort, a new request \
                header each time), against the same peer. Baselines \
                (written in C): a SOCK_SEQPACKET socket pair, two pipes, a shared-memory futex \
                ping-pong, and a shared-memory spin ping-pong, the floor. Payloads: 64 B, 4 KiB and \
                1 MiB each way (ALPC at 1 MiB needs the view attribute and is not measured yet).

                The rounds are interleaved: each round runs one batch of every transport and size, \
                so that drift of the machine hits all of them alike; every cell's samples are \
                accumulated across rounds into one histogram. The report gives p50, p99 and p99.9 \
                latency, round trips per second (1e9 / mean) and ALPC's ratio to each baseline; \
                one-way throughput of 64-byte datagrams (ALPC: sends with \
                ALPC_MSGFLG_RELEASE_MESSAGE, timed from the first send to the peer's count; \
                baseline: a C shared-memory ring); and the time from connect to the first reply.

                Host stalls. Before the rounds, a thread that does nothing but read the clock is pinned \
                to each CPU of the run in turn (0.5 s each, --quick 0.2 s) and counts the gaps of more \
                than 3 us between two readings: the CPU was taken away (an interrupt on bare metal; in a \
                virtual machine mostly the host's preemption of the vCPU). A round trip that spans a gap \
                takes that much longer, so at thousands a second they set the p99 of sub-microsecond \
                round trips, and a transport with longer round trips catches more of them.

                Placement. By default both sides of everything, ALPC included, are pinned apart: \
                this process on the first CPU it may use (normally CPU 0), the peer or the C child \
                on the second (CPU 1). The table calls this "separate CPUs" (JSON: "any"). Left \
                unpinned, the scheduler often starts a child on its parent's CPU and moves it tens \
                of milliseconds later, and a spinning baseline sharing a CPU with its peer is no \
                floor, so unpinned numbers would compare unlike things. --same-core pins both \
                sides to the first CPU.

                Progress goes to standard error, one line per round. The default run takes under \
                60 s, --quick under 10 s. Any failure of a baseline (errno) or of ALPC (NTSTATUS) \
                stops the run with a non-zero exit status; the peer is always reaped, also on \
                SIGINT.
                """
        )

        @Flag(help: "A short run (under 10 s) with fewer rounds and iterations.")
        var quick = false

        @Flag(help: "Pin both processes of every measurement to the first CPU.")
        var sameCore = false

        @Option(
            name: .customLong("idle-gap"),
            help: ArgumentHelp(
                "Sleep this long before each timed round trip, so that the server falls asleep and its wake-up is measured.",
                valueName: "microseconds"))
        var idleGapMicroseconds: Int = 0

        @Flag(help: "Print only a JSON array of results on standard output.")
        var json = false

        func validate() throws {
            guard (0...1_000_000).contains(idleGapMicroseconds) else {
                throw ValidationError("--idle-gap must be between 0 and 1000000 microseconds.")
            }
        }

        func run() throws {
            do {
                let report = try measure()
                print(json ? report.json : report.table)
                flushStandardOutput()
            } catch .interrupted {
                standardError("alpc bench: interrupted; the peer was stopped.\n")
                throw ExitCode(130)
            } catch {
                throw ValidationFailure(message: "alpc bench: \(error)")
            }
        }

        /// The whole run; every path out of it has reaped the peer.
        private func measure() throws(BenchError) -> BenchReport {
            let start = BenchClock.now()
            let plan: BenchPlan = quick ? .quick : .standard
            let idleGapNanos = UInt64(idleGapMicroseconds) * 1000
            BenchSignals.install()
            defer { BenchSignals.uninstall() }
            let cpus = try CPUAssignment.choose(sameCore ? .sameCore : .separateCPUs)
            if let mask = CPUAffinity.currentMask() {
                defer { CPUAffinity.restore(mask) }
                return try measure(plan: plan, cpus: cpus, idleGapNanos: idleGapNanos, start: start)
            }
            return try measure(plan: plan, cpus: cpus, idleGapNanos: idleGapNanos, start: start)
        }

        private func measure(plan: BenchPlan, cpus: CPUAssignment, idleGapNanos: UInt64, start: UInt64) throws(BenchError) -> BenchReport {
            let hostStalls = try HostStalls.measure(on: cpus, nanoseconds: plan.stallWatchNanos)
            // Pinned before the spawn: the peer starts on this CPU's mask, then pins itself.
            try CPUAffinity.pinCurrentThread(to: cpus.requester)
            let portName = #"\RPC Control\alpc-bench-"# + String(getpid())
            let peer = try PeerProcess.spawn(portName: portName, cpu: cpus.responder, readyTimeoutNanos: 10_000_000_000)
            defer { peer.terminate() }
            let alpc = try AlpcRoundTrips(portName: portName, payloads: plan.payloads)
            defer {
                alpc.client.disconnect()
                alpc.asyncClient.disconnect()
            }
            let alpcC = try AlpcCRoundTrips(portName: portName, maxMessageLength: alpc.client.maxMessageLength)
            let run = BenchRun(plan: plan, cpus: cpus, idleGapNanos: idleGapNanos, alpc: alpc, alpcC: alpcC)
            try run.run(start: start)
            return BenchReport(
                cpus: cpus, idleGapNanos: idleGapNanos, roundsPlanned: plan.rounds, roundsDone: run.roundsDone,
                elapsedNanos: BenchClock.now() &- start, payloads: plan.payloads,
                datagramPayload: plan.datagramPayload, connectPayload: plan.connectPayload,
                results: run.results, notes: run.notes + run.stoppedEarlyNotes, hostStalls: hostStalls)
        }
    }
}
