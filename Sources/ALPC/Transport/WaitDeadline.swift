internal import CALPCSystem

/// When a bounded wait ends, given as the time left for a `poll(2)`-style call.
///
/// A `nil` timeout never ends, a zero (or negative) one has already ended, and only a
/// positive one reads the clock, so a wait that merely checks readiness costs no clock read.
/// Counted on CLOCK_MONOTONIC in nanoseconds, the clock of every other wait here: a fixed-size
/// value (`ContinuousClock.Instant` is resilient, so each function that merely may hold one
/// looks up its type metadata at run time).
struct WaitDeadline {
    /// The three kinds of deadline.
    private enum Kind {
        /// No limit.
        case never
        /// The wait may not sleep at all.
        case immediately
        /// The wait ends at this CLOCK_MONOTONIC instant (nanoseconds).
        case at(UInt64)
    }

    /// What kind of deadline this is.
    private let kind: Kind

    /// A deadline `timeout` from now, or none when `timeout` is `nil`.
    init(_ timeout: Duration?) {
        switch timeout {
        case nil:
            kind = .never
        case let timeout? where timeout <= .zero:
            kind = .immediately
        case let timeout?:
            // As long as the uptime stays below 2^63 ns, the sum cannot wrap.
            kind = .at(alpc_now_ns() &+ UInt64(timeout.clampedNanoseconds))
        }
    }

    /// Whether the wait has no limit.
    var isUnbounded: Bool {
        if case .never = kind { return true }
        return false
    }

    /// Whether the deadline has passed; never true for an unbounded wait.
    var hasPassed: Bool {
        switch kind {
        case .never: false
        case .immediately: true
        case .at(let end): alpc_now_ns() >= end
        }
    }

    /// The time left in milliseconds, rounded up so a wait never ends early: -1 when
    /// unbounded, 0 once the deadline has passed, at most `Int32.max`.
    var remainingMilliseconds: Int32 {
        switch kind {
        case .never: return -1
        case .immediately: return 0
        case .at(let end):
            let now = alpc_now_ns()
            return now >= end ? 0 : Int32(clamping: (end &- now &+ 999_999) / 1_000_000)
        }
    }
}

extension Duration {
    /// This duration in whole nanoseconds (truncated), clamped to `0...Int64.max`: the one
    /// conversion the waits use (the futex, the epoll set, a deadline from now).
    ///
    /// Durations below 2^63 attoseconds (about 9.2 s) take one 64-bit division, longer ones
    /// `components`' 128-bit arithmetic.
    @inline(__always)
    var clampedNanoseconds: Int64 {
        if let attoseconds = Int64(exactly: self.attoseconds) { return Swift.max(0, attoseconds) / 1_000_000_000 }
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (total, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return carry ? .max : total
    }
}

/// The end of one call's waits on the record path: none, or the caller's timeout counted from
/// the moment one of the call's waits first reads the clock.
///
/// A call whose message (or free slot) is already there never waits, and so reads no clock
/// and converts no timeout. The call's functions pass it down `inout`; each wait resolves it
/// with the clock reading it makes anyway (``instant(now:)``), and every later wait of the
/// same call shares that end.
struct CallDeadline {
    /// The timeout, until a wait starts it; nil: no limit (or started, or an instant given).
    private var timeout: Duration?
    /// The CLOCK_MONOTONIC instant in nanoseconds once started; 0 before (and without limit).
    private var end: UInt64

    /// A deadline `timeout` after the call's first wait begins; none for nil (or a timeout too
    /// long to count in nanoseconds).
    @inline(__always)
    init(after timeout: Duration?) {
        self.timeout = timeout
        end = 0
    }

    /// A deadline at the CLOCK_MONOTONIC instant `instant` (nanoseconds); none for nil.
    init(at instant: UInt64?) {
        timeout = nil
        end = instant ?? 0
    }

    /// The CLOCK_MONOTONIC instant the call's waits end (nil: never), starting a timeout not
    /// started yet at `now`, a clock reading the caller just made.
    @inline(__always)
    mutating func instant(now: UInt64) -> UInt64? {
        if end != 0 { return end }
        guard let timeout else { return nil }
        return start(timeout, now: now)
    }

    /// Starts `timeout` at `now`: the end it gives, or nil for one too long to count.
    @inline(never)
    private mutating func start(_ timeout: Duration, now: UInt64) -> UInt64? {
        self.timeout = nil
        let nanoseconds = timeout.clampedNanoseconds
        if nanoseconds == .max { return nil }
        // (A clock reading is never 0, nor 0 after adding a timeout that fits: the uptime
        // would have to pass 2^64 ns.)
        end = now &+ UInt64(nanoseconds)
        return end
    }

    /// The CLOCK_MONOTONIC instant the call's waits end (nil: never), reading the clock only
    /// to start a timeout not started yet.
    mutating func instant() -> UInt64? {
        if end == 0 && timeout != nil { return instant(now: alpc_now_ns()) }
        return instant(now: 0)
    }
}
