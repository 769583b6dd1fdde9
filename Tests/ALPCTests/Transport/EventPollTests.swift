import ALPC
import Testing

extension TransportTests {
    /// `EventPoll`: tokens, readiness, hang-ups, removal and timeouts.
    @Suite("EventPoll", .sharedPeers)
    struct EventPollTests {
        @Test("A wait reports a rung doorbell's token, then a socket's hang-up")
        func doorbellAndHangUp() throws {
            let listener = try ControlListener.listen(on: uniquePortName())
            let client = try ControlSocket.connect(to: listener.name)
            let server = try acceptOne(listener)
            let bell = try Doorbell()
            let poll = try EventPoll()
            var events = EventPoll.Buffer(capacity: 8)
            try poll.add(bell.fd, token: 7)
            try poll.add(server.fd, token: 9)
            #expect(try poll.wait(into: &events, timeout: .zero) == 0)

            bell.ring()
            #expect(try poll.wait(into: &events, timeout: .seconds(5)) == 1)
            #expect(events.count == 1)
            #expect(events[0].token == 7)
            #expect(events[0].isReadable)
            #expect(!events[0].isHangUp)

            // Level-triggered: readable until drained.
            #expect(try poll.wait(into: &events, timeout: .zero) == 1)
            bell.drain()
            #expect(try poll.wait(into: &events, timeout: .zero) == 0)

            client.close()
            #expect(try poll.wait(into: &events, timeout: .seconds(5)) == 1)
            #expect(events[0].token == 9)
            #expect(events[0].isHangUp)
        }

        @Test("Several ready descriptors come back in one wait, each with its token")
        func severalReady() throws {
            let listener = try ControlListener.listen(on: uniquePortName())
            let connection = try Connection(connectingTo: listener)
            let bell = try Doorbell()
            let poll = try EventPoll()
            var events = EventPoll.Buffer()
            try poll.add(bell.fd, token: 1)
            try poll.add(connection.server.fd, token: 2)
            try poll.add(listener.fd, token: 3)

            bell.ring()
            try send("hello", on: connection.client)
            let client = try ControlSocket.connect(to: listener.name)
            let count = try poll.wait(into: &events, timeout: .seconds(5))
            let tokens = Set((0..<count).map { events[$0].token })
            #expect(tokens == [1, 2, 3])
            #expect((0..<count).allSatisfy { events[$0].isReadable && !events[$0].isHangUp })
            client.close()
        }

        @Test("A removed descriptor is no longer reported; bad adds and removes throw invalidParameter")
        func remove() throws {
            let bell = try Doorbell()
            let poll = try EventPoll()
            var events = EventPoll.Buffer(capacity: 1)
            try poll.add(bell.fd, token: 1)
            #expect(throws: NTStatus.invalidParameter) { try poll.add(bell.fd, token: 2) }
            try poll.modify(bell.fd, token: 5, events: .readable)
            bell.ring()
            #expect(try poll.wait(into: &events, timeout: .zero) == 1)
            #expect(events[0].token == 5)

            try poll.remove(bell.fd)
            #expect(try poll.wait(into: &events, timeout: .zero) == 0)
            #expect(throws: NTStatus.invalidParameter) { try poll.remove(bell.fd) }
            #expect(throws: NTStatus.invalidParameter) { try poll.modify(bell.fd, token: 1, events: .readable) }
        }

        @Test("A wait with nothing ready returns 0 after its timeout")
        func waitTimeout() throws {
            let bell = try Doorbell()
            let poll = try EventPoll()
            var events = EventPoll.Buffer()
            try poll.add(bell.fd, token: 1)
            let start = ContinuousClock.now
            #expect(try poll.wait(into: &events, timeout: .milliseconds(30)) == 0)
            #expect(start.duration(to: .now) >= .milliseconds(30))
            #expect(events.count == 0)
        }
    }

    /// `EventPoll`'s timeout precision, alone among the gated tests: it times waits.
    @Suite("EventPoll timing", .serialized, .exclusivePeers)
    struct EventPollTimingTests {
        @Test("A wait shorter than a millisecond is not rounded up to one (epoll_pwait2)")
        func subMillisecondTimeout() throws {
            let poll = try EventPoll()
            var events = EventPoll.Buffer(capacity: 8)
            #expect(EventPoll.nanoseconds(.microseconds(200)) == 200_000)
            #expect(EventPoll.nanoseconds(nil) == -1 && EventPoll.nanoseconds(.seconds(-1)) == 0)
            #expect(EventPoll.nanoseconds(.seconds(Int64.max)) == .max)
            var took: [Duration] = []
            for _ in 0..<21 {
                let start = ContinuousClock.now
                #expect(try poll.wait(into: &events, timeout: .microseconds(200)) == 0)
                took.append(ContinuousClock.now - start)
            }
            took.sort()
            // epoll_wait's millisecond timeout made every one of these last 1 ms at least.
            #expect(took[10] >= .microseconds(200) && took[10] < .microseconds(900), "median \(took[10])")
        }
    }
}
