internal import CALPC
internal import CALPCNTSupport
internal import Glibc

/// NT timeouts: a LARGE_INTEGER in 100 ns units, where NULL waits forever, 0 polls, a negative
/// value is relative and a positive one an absolute system time (since 1601-01-01 UTC).
enum NTTimeout {
    /// 100 ns intervals between 1601-01-01 and 1970-01-01.
    static let unixEpochIn100ns: Int64 = 116_444_736_000_000_000

    /// The wait `timeout` asks for: nil waits forever.
    @inline(__always)
    static func duration(_ timeout: UnsafeMutablePointer<LARGE_INTEGER>?) -> Duration? {
        guard let timeout else { return nil }
        let value = timeout.pointee.QuadPart
        if value == 0 { return .zero }
        if value < 0 {
            // Relative; beyond what nanoseconds hold it is forever.
            let (nanos, overflow) = value.multipliedReportingOverflow(by: -100)
            return overflow ? nil : .nanoseconds(nanos)
        }
        return remaining(until: value)
    }

    /// The time left until the absolute system time `value` (100 ns units since 1601): zero
    /// once it has passed. (Out of line: the clock's buffer would give every call of
    /// `duration` a stack protector.)
    @inline(never)
    private static func remaining(until value: Int64) -> Duration? {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowIn100ns = unixEpochIn100ns &+ Int64(now.tv_sec) &* 10_000_000 &+ Int64(now.tv_nsec) / 100
        let remaining = value &- nowIn100ns
        guard remaining > 0 else { return .zero }
        let (nanos, overflow) = remaining.multipliedReportingOverflow(by: 100)
        return overflow ? nil : .nanoseconds(nanos)
    }

    /// `duration` in whole milliseconds for poll(2), rounded up: -1 for forever.
    static func milliseconds(_ duration: Duration?) -> Int32 {
        guard let duration else { return -1 }
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(0, millis))
    }
}
