internal import CALPCSystem
internal import Glibc

/// Closes descriptors that came from a peer, on a thread of its own.
///
/// A peer chooses what its descriptors refer to, and closing the last descriptor of a file can
/// take as long as whoever serves the file wants: a FUSE file's flush, a TCP socket lingering
/// with unsent data. The thread that receives for every connection must never wait on one
/// peer, so every peer descriptor the library rejects or releases comes here. The thread starts
/// when there is something to close and ends after a second with nothing to do.
///
/// A descriptor whose close never returns holds up the ones queued after it, not the receiving
/// thread: they stay open (counted against the process's limit) until it returns.
final class PeerDescriptorCloser: @unchecked Sendable {
    /// The process's closer.
    static let shared = PeerDescriptorCloser()

    private let lock = ConditionLock()
    /// Descriptors waiting to be closed, oldest first (under `lock`).
    private var queue: [Int32] = []
    /// Whether a closing thread runs (under `lock`).
    private var running = false
    /// How many descriptors were handed over and not closed yet (under `lock`).
    private var outstanding = 0

    /// Queues `fds` (negative values are skipped) to be closed on the closing thread. When no
    /// thread can be started, they are closed here.
    func close<Descriptors: Sequence<Int32>>(_ fds: Descriptors) {
        var start = false
        lock.withLock {
            for fd in fds where fd >= 0 {
                queue.append(fd)
                outstanding += 1
            }
            guard !queue.isEmpty else { return }
            if running {
                lock.broadcast()
            } else {
                running = true
                start = true
            }
        }
        guard start else { return }
        if !DetachedThread.start(stackSize: 64 * 1024, { [self] in run() }) {
            // No thread: close here rather than leak.
            let pending = lock.withLock { () -> [Int32] in
                running = false
                defer { queue.removeAll() }
                return queue
            }
            closeNow(pending)
        }
    }

    /// Queues one descriptor.
    func close(_ fd: Int32) {
        close(CollectionOfOne(fd))
    }

    /// Waits until every descriptor handed over is closed, for at most `timeoutNanos`. True when
    /// none is outstanding (for tests that count descriptors).
    func drain(timeoutNanos: UInt64 = 5_000_000_000) -> Bool {
        let deadline = alpc_now_ns() &+ timeoutNanos
        return lock.withLock {
            while outstanding > 0 {
                if !lock.wait(until: deadline) { return false }
            }
            return true
        }
    }

    private func run() {
        while true {
            let batch = lock.withLock { () -> [Int32] in
                if queue.isEmpty { _ = lock.wait(until: alpc_now_ns() &+ 1_000_000_000) }
                if queue.isEmpty { running = false }
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            guard !batch.isEmpty else { return }
            closeNow(batch)
        }
    }

    private func closeNow(_ fds: [Int32]) {
        for fd in fds { _ = system_close(fd) }
        lock.withLock {
            outstanding -= fds.count
            lock.broadcast()
        }
    }
}
