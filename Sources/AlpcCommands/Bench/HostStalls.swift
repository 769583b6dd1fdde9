/// How often the CPUs a run uses were taken away from it: a thread that does nothing but read
/// the clock, pinned to each CPU in turn, counts the gaps between two readings longer than
/// ``threshold``. On bare metal such gaps are the kernel's own interrupts (hundreds a second);
/// in a virtual machine the host's preemption of the vCPU adds thousands, and a round trip that
/// spans a gap takes that much longer, which is what a p99 of a few microseconds then shows.
struct HostStalls {
    /// The shortest gap counted.
    static let threshold: UInt64 = 3_000

    /// What one CPU showed.
    struct CPU {
        let cpu: Int32
        /// Gaps longer than ``HostStalls/threshold`` per second.
        let perSecond: Double
        /// Their mean length in nanoseconds (0 without any).
        let meanNanos: UInt64
    }

    let cpus: [CPU]

    /// Watches each of `cpus`' CPUs (once when both sides share one) for `nanoseconds`,
    /// leaving the calling thread pinned to the last one watched.
    static func measure(on cpus: CPUAssignment, nanoseconds: UInt64) throws(BenchError) -> HostStalls {
        var watched: [CPU] = []
        for cpu in cpus.requester == cpus.responder ? [cpus.requester] : [cpus.requester, cpus.responder] {
            try CPUAffinity.pinCurrentThread(to: cpu)
            watched.append(watch(cpu: cpu, nanoseconds: nanoseconds))
        }
        return HostStalls(cpus: watched)
    }

    /// Reads the clock in a loop for `nanoseconds` on the current CPU.
    private static func watch(cpu: Int32, nanoseconds: UInt64) -> CPU {
        let start = BenchClock.now()
        var last = start
        var gaps: UInt64 = 0
        var gapNanos: UInt64 = 0
        while last &- start < nanoseconds {
            let now = BenchClock.now()
            if now &- last > threshold {
                gaps &+= 1
                gapNanos &+= now &- last
            }
            last = now
        }
        let seconds = Double(last &- start) / 1e9
        return CPU(cpu: cpu, perSecond: Double(gaps) / seconds, meanNanos: gaps == 0 ? 0 : gapNanos / gaps)
    }
}
