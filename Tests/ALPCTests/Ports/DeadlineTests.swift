import ALPC
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension PortsTests {
    /// A call's timeout starts with its first wait (no clock is read by a call that never
    /// waits) and then holds for all of the call's waits.
    @Suite("Call deadlines", .serialized, .exclusivePeers)
    struct DeadlineTests {
        @Test("A synchronous call times out at its deadline however many other replies arrive while it waits")
        func timeoutHoldsAcrossOtherReplies() throws {
            let (server, client) = try PortsTests.connectedPair()
            // Asynchronous requests, whose replies trickle in while the call below waits: each
            // one ends one wait of the call, which parks it and waits again.
            let trickled = 40
            for index in 0..<trickled { try client.send(try AlpcMessage(string: "async \(index)")) }
            let replier = TestThread {
                var answered = 0
                while answered < trickled, let request = try? server.receive(timeout: .seconds(5)) {
                    // The synchronous request is never answered.
                    guard request.string.hasPrefix("async") else { continue }
                    usleep(25_000)
                    try? server.send(request)
                    answered += 1
                }
            }
            defer { replier.join() }

            let start = ContinuousClock.now
            #expect(throws: NTStatus.timeout) {
                try client.sendReceive(try AlpcMessage(string: "sync"), timeout: .milliseconds(200))
            }
            let elapsed = ContinuousClock.now - start
            // The replies take a second to arrive; the call ends near its 200 ms all the same.
            #expect(elapsed >= .milliseconds(200))
            #expect(elapsed < .milliseconds(700))
            // The other replies were all kept for a receive.
            for _ in 0..<trickled {
                #expect(try client.receive(timeout: .seconds(5)).string.hasPrefix("async"))
            }
        }
    }
}
