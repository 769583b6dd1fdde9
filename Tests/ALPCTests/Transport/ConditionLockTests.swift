@testable import ALPC
import CALPCSystem
import Glibc
import Synchronization
import Testing

extension TransportTests {
    /// `ConditionLock` under contention: its unlock is a plain store whose fence may be the
    /// caller's, and its sleepers are counted apart from the lock word.
    @Suite("ConditionLock")
    struct ConditionLockTests {
        /// A count that only the holder of `lock` touches.
        final class Guarded: @unchecked Sendable {
            var count = 0
        }

        @Test("4 threads on 2 CPUs, 50,000 increments each under the lock, half released sharing a fence: none lost, no thread left asleep")
        func contended() {
            let lock = ConditionLock()
            let guarded = Guarded()
            let finished = Atomic<Int>(0)
            let threads = 4
            let increments = 50_000
            let workers = (0..<threads).map { thread in
                TestThread {
                    for index in 0..<increments {
                        lock.lock()
                        // A few reads and writes while holding it, so that holders are
                        // preempted with the lock held and the others sleep on it.
                        let seen = guarded.count
                        guarded.count = seen &+ 1
                        if (thread &+ index) & 1 == 0 {
                            lock.unlock()
                        } else {
                            lock.unlock(sharingFenceOf: { atomicMemoryFence(ordering: .sequentiallyConsistent) })
                        }
                    }
                    finished.add(1, ordering: .releasing)
                }
            }
            // A sleeper never woken would hang its thread: wait a bounded time, and leave the
            // threads unjoined (the test fails) rather than wait for ever.
            let deadline = alpc_now_ns() + 30_000_000_000
            while finished.load(ordering: .acquiring) < threads && alpc_now_ns() < deadline { usleep(1_000) }
            let done = finished.load(ordering: .acquiring)
            #expect(done == threads, "\(threads - done) threads still waiting for the lock after 30 s")
            guard done == threads else {
                Self.abandoned.withLock { $0.append(contentsOf: workers) }
                return
            }
            for worker in workers { worker.join() }
            lock.lock()
            #expect(guarded.count == threads * increments)
            lock.unlock()
        }

        /// Threads of a failed run, kept so that nothing joins them.
        static let abandoned = Mutex<[TestThread]>([])
    }
}
