internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// The wait strategy of both sides: spin while the peer runs on another CPU, then sleep on a
/// futex with a waiter flag so the peer calls FUTEX_WAKE only when someone sleeps.
///
/// Spinning costs ~130 ns a round trip across CPUs on the target VM, a futex wake ~47 us, and
/// spinning against a peer on the same CPU can cost a whole time slice. So each side publishes
/// its CPU in the segment, with ``asleepBit`` set while it sleeps; a waiter spins only when the
/// peer's CPU is not its own, and for a bounded time. Every sleep is a bounded slice, after
/// which the caller's liveness check runs.
enum AdaptiveWait {
    /// The longest a waiter spins before sleeping: about one futex wake-up.
    static let spinBudgetNanos: UInt64 = 50_000
    /// How long an asynchronous caller spins (or waits in epoll) before it suspends its task:
    /// as long as a blocking caller spins, so that it catches the same replies (a suspended
    /// task costs two wake-ups, the reactor's and a pool thread's, where a blocking caller
    /// that stopped spinning costs one).
    static let asyncSpinNanos: UInt64 = spinBudgetNanos
    /// The longest one futex sleep lasts before liveness is checked again.
    static let sliceNanos: UInt64 = 20_000_000
    /// Set in a published CPU word while its side sleeps; the CPU number stays, so a peer can
    /// still tell that it shares the CPU.
    static let asleepBit: UInt32 = 0x8000_0000

    /// 1 + the CPU the calling thread runs on: the word a side publishes while awake.
    static var currentCpuWord: UInt32 { UInt32(truncatingIfNeeded: alpc_current_cpu() &+ 1) }

    /// True when spinning for a peer that published `peer` can pay: the peer is known to run,
    /// or to be woken, on another CPU than `me`.
    static func peerIsElsewhere(_ peer: UInt32, me: UInt32) -> Bool {
        let cpu = peer & ~asleepBit
        return cpu != 0 && cpu != me
    }

    /// True when the peer that published `peer` runs, or is being woken, on this CPU (`me`).
    static func peerIsHere(_ peer: UInt32, me: UInt32) -> Bool {
        peer & ~asleepBit == me
    }

    /// Gives the CPU to another runnable thread on it, if any (`sched_yield`). False when the
    /// yield lost the CPU for longer than ``yieldStallNanos``: a third thread that wants the
    /// CPU ran meanwhile (the scheduler puts a yielding thread behind every other runnable
    /// one, for up to a time slice of milliseconds), and yielding is then barred for
    /// ``yieldBarNanos`` in this process: waits sleep instead, as a woken sleeper is not
    /// put behind.
    static func yieldProcessor() -> Bool {
        let before = alpc_now_ns()
        _ = sched_yield()
        let after = alpc_now_ns()
        guard after &- before > yieldStallNanos else { return true }
        yieldingBarredUntil.store(after &+ yieldBarNanos, ordering: .relaxed)
        return false
    }

    /// Whether waiters may yield the CPU at `now` (see ``yieldProcessor()``).
    static func mayYield(now: UInt64) -> Bool {
        now >= yieldingBarredUntil.load(ordering: .relaxed)
    }

    /// The longest a yield may keep this thread off the CPU before yielding is barred.
    static let yieldStallNanos: UInt64 = 1_000_000
    /// How long yielding stays barred after a yield stalled.
    static let yieldBarNanos: UInt64 = 100_000_000
    /// Until when (CLOCK_MONOTONIC ns) no waiter of this process yields.
    private static let yieldingBarredUntil = Atomic<UInt64>(0)

    /// Waits until `poll` returns true.
    ///
    /// - Parameters:
    ///   - futexWord: the word the peer changes and wakes when the condition may have become true.
    ///   - sleepingFlag: set while this side sleeps, so the peer knows to wake it.
    ///   - ownCpu: where this side publishes its CPU word.
    ///   - peerCpu: where the peer publishes its CPU word.
    ///   - spin: whether this wait may spin at all (false: the peer cannot act before a wake-up).
    ///   - deadline: when the call's waits end; a timeout not started yet starts with the
    ///     first clock reading of this wait.
    ///   - poll: tests the condition; it may throw to abandon the wait.
    ///   - liveness: throws when the peer is gone; runs whenever a sleep ends without the condition.
    /// - Throws: `NTStatus.timeout` at the deadline, or what `poll` or `liveness` throw.
    static func wait(
        futexWord: UnsafeMutablePointer<UInt32>,
        sleepingFlag: UnsafeMutablePointer<Atomic<UInt32>>,
        ownCpu: UnsafeMutablePointer<Atomic<UInt32>>,
        peerCpu: UnsafeMutablePointer<Atomic<UInt32>>,
        spin: Bool = true,
        deadline: inout CallDeadline,
        poll: () throws(NTStatus) -> Bool,
        liveness: () throws(NTStatus) -> Void
    ) throws(NTStatus) {
        if try poll() { return }
        let me = currentCpuWord
        // Stored only when it changed: the word's cache line then stays shared with the peer,
        // which reads it, instead of moving to this CPU on every wait.
        if ownCpu.pointee.load(ordering: .relaxed) != me { ownCpu.pointee.store(me, ordering: .relaxed) }
        // Spin while the peer runs, or is being woken, on another CPU: it can answer before a
        // wake-up of ours would even arrive.
        if spin && peerIsElsewhere(peerCpu.pointee.load(ordering: .relaxed), me: me) {
            let spinStart = alpc_now_ns()
            let end = deadline.instant(now: spinStart)
            var rounds: UInt32 = 0
            while true {
                for _ in 0..<64 {
                    if try poll() { return }
                    alpc_cpu_relax()
                }
                rounds &+= 1
                if rounds & 7 == 0 {
                    let now = alpc_now_ns()
                    if now &- spinStart > spinBudgetNanos { break }
                    // A deadline before the end of the budget ends the spin too.
                    if let end, now >= end { break }
                    // A peer that went to sleep on our CPU can only run if we stop.
                    if !peerIsElsewhere(peerCpu.pointee.load(ordering: .relaxed), me: me) { break }
                }
            }
        } else if spin && peerIsHere(peerCpu.pointee.load(ordering: .relaxed), me: me) {
            // The peer runs, or was just woken, on this CPU: it can answer only when this
            // thread stops running. Yielding the CPU to it, for as long as a spin would last,
            // costs a context switch where a sleep costs a futex wait and the peer's wake.
            let yieldStart = alpc_now_ns()
            let end = deadline.instant(now: yieldStart)
            while mayYield(now: yieldStart) {
                let yielded = yieldProcessor()
                if try poll() { return }
                if !yielded { break }
                let now = alpc_now_ns()
                if now &- yieldStart > spinBudgetNanos { break }
                if let end, now >= end { break }
            }
        }
        // Sleep: announce it, re-check, then wait on the futex word in bounded slices.
        ownCpu.pointee.store(me | asleepBit, ordering: .relaxed)
        defer {
            sleepingFlag.pointee.bitwiseAnd(~WakeRequest.futex, ordering: .relaxed)
            ownCpu.pointee.store(currentCpuWord, ordering: .relaxed)
        }
        while true {
            let observed = UnsafeMutableRawPointer(futexWord).assumingMemoryBound(to: Atomic<UInt32>.self)
                .pointee.load(ordering: .acquiring)
            sleepingFlag.pointee.bitwiseOr(WakeRequest.futex, ordering: .sequentiallyConsistent)
            if try poll() { return }
            var slice = sliceNanos
            let now = alpc_now_ns()
            if let end = deadline.instant(now: now) {
                guard now < end else { throw .timeout }
                slice = min(slice, end &- now)
            }
            _ = alpc_futex_wait(futexWord, observed, Int64(slice))
            if try poll() { return }
            // Woken or timed out without what we wait for: the peer may have closed or died.
            try liveness()
        }
    }

    /// The CLOCK_MONOTONIC deadline `timeout` from now, or nil for no timeout (also for a
    /// timeout too long to count in nanoseconds). The synchronous record path counts its
    /// timeouts from its first wait instead (``CallDeadline``).
    static func deadline(after timeout: Duration?) -> UInt64? {
        var deadline = CallDeadline(after: timeout)
        return deadline.instant()
    }

    /// The end of an asynchronous caller's attempt before it suspends its task: ``asyncSpinNanos``
    /// after the attempt's first wait begins, and no later than `deadline` (CLOCK_MONOTONIC
    /// nanoseconds; nil: none). Without a deadline no clock is read unless the attempt waits.
    @inline(__always)
    static func asyncAttempt(until deadline: UInt64?) -> CallDeadline {
        guard let deadline else { return CallDeadline(after: .nanoseconds(Int64(asyncSpinNanos))) }
        return CallDeadline(at: min(deadline, alpc_now_ns() &+ asyncSpinNanos))
    }
}
