@testable import ALPC
import CALPC
import Glibc
import Testing

extension PortsTests {
    /// Async client calls: a task waits for its reply without a thread, and a cancelled one
    /// ends at once, its late reply dropped (issue 11, item 1).
    @Suite("async/await", .sharedPeers)
    struct AsyncAwaitTests {
        @Test("async sendReceive across processes, and 1,000 concurrent tasks on one client each get their own reply")
        func concurrentTasks() async throws {
            let name = uniquePortName()
            let peer = try PortsTests.startServer(name, ["--quiet"])
            defer { peer.kill(signal: SIGKILL) }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            let first = try await client.sendReceive("hello async", timeout: .seconds(10))
            #expect(first.string == "REQUEST 'hello async' DONE")
            #expect(first.messageType.kind == .reply)

            let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let reply = try await client.sendReceive("task \(index)", timeout: .seconds(30))
                        return reply.string == "REQUEST 'task \(index)' DONE" ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(wrong == 0)
            client.disconnect()
        }

        @Test("async receive gets datagrams and replies to asynchronous requests; a timeout ends it")
        func asyncReceive() async throws {
            let name = uniquePortName()
            let peer = try PortsTests.startServer(name, ["--quiet"])
            defer { peer.kill(signal: SIGKILL) }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            _ = try client.send(AlpcMessage(string: "later"))
            let reply = try await client.receive(timeout: .seconds(10))
            #expect(reply.string == "REQUEST 'later' DONE")
            let start = ContinuousClock.now
            await #expect(throws: NTStatus.timeout) { _ = try await client.receive(timeout: .milliseconds(100)) }
            #expect(ContinuousClock.now - start >= .milliseconds(90))
            client.disconnect()
        }
    }

    /// Cancellation, alone among the gated tests: it counts this process's descriptors.
    @Suite("async/await cancellation", .serialized, .exclusivePeers)
    struct AsyncCancellationTests {
        @Test("A cancelled sendReceive ends at once with STATUS_CANCELLED; the late reply is dropped; 300 of them leak nothing")
        func cancellation() async throws {
            let name = uniquePortName()
            let server = try AlpcServer(portName: name)
            let acceptor = TestThread {
                if let request = try? server.receive(timeout: .seconds(10)) { _ = try? server.acceptConnection(request) }
            }
            let client = try AlpcClient(portName: name, timeout: .seconds(10))
            acceptor.join()
            // Once the connection's poll descriptor and the reactor exist (a wait that suspends
            // makes both), nothing more may stay.
            await #expect(throws: NTStatus.timeout) { _ = try await client.receive(timeout: .milliseconds(50)) }
            let warmUp = Task { () async throws(NTStatus) -> String in try await client.sendReceive("warm-up", timeout: .seconds(10)).string }
            let warmUpRequest = try server.receive(timeout: .seconds(10))
            try server.send(warmUpRequest)
            _ = try await warmUp.value
            let before = PortsTests.openDescriptorCount()
            let targets = PortsTests.openDescriptorTargets()
            for round in 0..<300 {
                let task = Task { () async throws(NTStatus) -> String in
                    try await client.sendReceive("cancel me \(round)", timeout: .seconds(30)).string
                }
                // The server has the request: the task is waiting for its reply.
                let request = try server.receive(timeout: .seconds(10))
                #expect(request.string == "cancel me \(round)")
                let start = ContinuousClock.now
                task.cancel()
                let outcome = await task.result
                #expect(ContinuousClock.now - start < .seconds(1))
                guard case .failure(let status) = outcome else {
                    Issue.record("round \(round): the cancelled call returned a reply")
                    return
                }
                #expect(status as? NTStatus == .cancelled)
                // The reply comes late, and goes nowhere.
                try request.setData("late \(round)")
                try server.send(request)
            }
            // Nothing of the late replies reaches receive, and the connection still works.
            #expect(throws: NTStatus.timeout) { _ = try client.receive(timeout: .milliseconds(200)) }
            let next = Task { () async throws(NTStatus) -> String in try await client.sendReceive("after", timeout: .seconds(10)).string }
            let request = try server.receive(timeout: .seconds(10))
            try request.setData("answer")
            try server.send(request)
            #expect(try await next.value == "answer")
            // The reactor's epoll descriptor goes a second after the last wait.
            let settled = ContinuousClock.now + .seconds(3)
            while PortsTests.openDescriptorCount() > before && ContinuousClock.now < settled {
                // (Not Task.sleep: the runtime's first timer opens a timerfd of its own.)
                usleep(100_000)
            }
            #expect(
                PortsTests.openDescriptorCount() <= before,
                "new: \(Set(PortsTests.openDescriptorTargets()).subtracting(targets).sorted())")
            client.disconnect()
        }
    }
}
