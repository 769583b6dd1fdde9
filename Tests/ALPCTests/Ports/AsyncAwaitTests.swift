@testable import ALPC
import CALPC
import Glibc
import Synchronization
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
            _ = try await client.send(AlpcMessage(string: "later"))
            let reply = try await client.receive(timeout: .seconds(10))
            #expect(reply.string == "REQUEST 'later' DONE")
            let start = ContinuousClock.now
            await #expect(throws: NTStatus.timeout) { _ = try await client.receive(timeout: .milliseconds(100)) }
            #expect(ContinuousClock.now - start >= .milliseconds(90))
            client.disconnect()
        }
    }

    /// Async send and the in-place async calls (issue 11, item 1).
    @Suite("async send and in place", .sharedPeers)
    struct AsyncSendTests {
        @Test("In-place async sendReceive and receive across processes: the request written in place, the reply lent")
        func inPlace() async throws {
            let name = uniquePortName()
            let peer = try PortsTests.startServer(name, ["--quiet"])
            defer { peer.kill(signal: SIGKILL) }
            let client = try await offPool { try AlpcClient(portName: name, timeout: .seconds(10)) }
            let text = Array("in place".utf8)
            let reply = try await client.sendReceive(dataLength: text.count, timeout: .seconds(10)) { data in
                data.copyBytes(from: text)
            } reply: { message in
                (message.messageType.kind, String(decoding: message.data, as: UTF8.self))
            }
            #expect(reply.0 == .reply && reply.1 == "REQUEST 'in place' DONE")
            _ = try await client.send(AlpcMessage(string: "later"))
            let later = try await client.receive(timeout: .seconds(10)) { String(decoding: $0.data, as: UTF8.self) }
            #expect(later == "REQUEST 'later' DONE")
            let third = Array("third".utf8)
            try await client.send(dataLength: third.count) { $0.copyBytes(from: third) }
            let answer = try await client.receive(timeout: .seconds(10)) { String(decoding: $0.data, as: UTF8.self) }
            #expect(answer == "REQUEST 'third' DONE")
            client.disconnect()
        }

        @Test("Async send suspends while the request ring is full, goes on when the server reads, and a cancelled one sends nothing")
        func sendWaitsForRoom() async throws {
            let (server, client) = try await offPool { try PortsTests.connectedPair() }
            defer { server.disconnect() }
            let sent = Atomic<Int>(0)
            let sender = Task { () async throws(NTStatus) -> Int in
                for index in 0..<200 {
                    try await client.send(AlpcMessage(string: "datagram \(index)"), flags: .releaseMessage)
                    sent.add(1, ordering: .relaxed)
                }
                return 200
            }
            try await Task.sleep(for: .milliseconds(200))
            let stalled = sent.load(ordering: .relaxed)
            #expect(stalled > 0 && stalled < 200, "the ring is full: the sender waits (sent \(stalled))")
            // The server reads: the sender goes on to the end.
            let reader = TestThread {
                var count = 0
                while count < 200, (try? server.receive(timeout: .seconds(10))) != nil { count += 1 }
            }
            #expect(try await sender.value == 200)
            reader.join()
            #expect(sent.load(ordering: .relaxed) == 200)

            // Fill the ring again; a send waiting for room is cancelled and sends nothing.
            var filled = 0
            while (try? client.sendDatagrams(count: 1, dataLength: 1, timeout: .zero) { _, data in data[0] = 1 }) != nil {
                filled += 1
            }
            let blocked = Task { () async throws(NTStatus) -> UInt32 in
                try await client.send(AlpcMessage(string: "never"), flags: .releaseMessage)
            }
            try await Task.sleep(for: .milliseconds(50))
            blocked.cancel()
            await #expect(throws: NTStatus.cancelled) { _ = try await blocked.value }
            var drained = 0
            while (try? server.receive(timeout: .milliseconds(100))) != nil { drained += 1 }
            #expect(drained == filled, "the cancelled datagram was not sent")
            client.disconnect()
        }
    }

    /// Cancellation, alone among the gated tests: it counts this process's descriptors.
    @Suite("async/await cancellation", .serialized, .exclusivePeers)
    struct AsyncCancellationTests {
        @Test("A cancelled sendReceive ends at once with STATUS_CANCELLED; the late reply is dropped; 1,000 of them leak nothing")
        func cancellation() async throws {
            let (server, client) = try await offPool { try PortsTests.connectedPair() }
            // Once the connection's poll descriptor and the reactor exist (a wait that suspends
            // makes both), nothing more may stay.
            await #expect(throws: NTStatus.timeout) { _ = try await client.receive(timeout: .milliseconds(50)) }
            let warmUp = Task { () async throws(NTStatus) -> String in try await client.sendReceive("warm-up", timeout: .seconds(10)).string }
            let warmUpRequest = try server.receive(timeout: .seconds(10))
            try server.send(warmUpRequest)
            _ = try await warmUp.value
            let before = PortsTests.openDescriptorCount()
            let targets = PortsTests.openDescriptorTargets()
            for round in 0..<1000 {
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
            // Nothing of the late replies reaches receive, nothing of them is kept, and the
            // connection still works.
            #expect(throws: NTStatus.timeout) { _ = try client.receive(timeout: .milliseconds(200)) }
            #expect(client.channel.replies.pendingCancellations == 0)
            #expect(!client.channel.replies.hasParked)
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
