internal import CALPC
internal import CALPCSystem
internal import Glibc

/// A lock with a condition variable, waited on with CLOCK_MONOTONIC deadlines.
///
/// It coordinates the threads of one process that share a port: at most one of them consumes a
/// ring at a time (the consumer role), the others wait here for the role or for a message the
/// consumer hands them. Unlike `Mutex`, every wait here has a deadline.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Takes the lock; pair with `unlock()`.
    @inline(__always) func lock() { pthread_mutex_lock(mutex) }

    /// Releases the lock.
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits for a broadcast, holding the lock before and after; false when `deadline` (CLOCK_MONOTONIC
    /// nanoseconds) passed. Without a deadline the wait is still bounded to one second, so callers
    /// re-check their state.
    func wait(until deadline: UInt64?) -> Bool {
        let now = alpc_now_ns()
        var target = now &+ 1_000_000_000
        if let deadline {
            if deadline <= now { return false }
            target = min(target, deadline)
        }
        var spec = timespec(tv_sec: Int(target / 1_000_000_000), tv_nsec: Int(target % 1_000_000_000))
        _ = pthread_cond_timedwait(condition, mutex, &spec)
        return true
    }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}
