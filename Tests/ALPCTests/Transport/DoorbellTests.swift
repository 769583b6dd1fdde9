import ALPC
import CALPC
import CALPCSystem
import Glibc
import Testing

extension TransportTests {
    /// `Doorbell`: ringing, draining, and adopting a peer's eventfd.
    @Suite("Doorbell", .sharedPeers)
    struct DoorbellTests {
        @Test("Rings add up until a drain, which clears them")
        func ringAndDrain() throws {
            let bell = try Doorbell()
            #expect(bell.drain() == 0)
            bell.ring()
            bell.ring()
            #expect(bell.drain() == 2)
            #expect(bell.drain() == 0)
            #expect(fcntl(bell.fd, F_GETFL) & O_NONBLOCK != 0)
            #expect(fcntl(bell.fd, F_GETFD) & FD_CLOEXEC != 0)
        }

        @Test("An eventfd received from a peer rings both ways")
        func adoptReceivedEventfd() throws {
            let connection = try Connection()
            let bell = try Doorbell()
            try send("doorbell", fds: [bell.fd], on: connection.client)
            let (_, fds) = try receiveText(on: connection.server, maxFDs: 1)
            try #require(fds.count == 1)
            let peerBell = try Doorbell(adopting: OwnedDescriptor(adopting: fds[0]))
            #expect(peerBell.fd != bell.fd)

            bell.ring()
            #expect(peerBell.drain() == 1)
            peerBell.ring()
            peerBell.ring()
            #expect(bell.drain() == 2)
        }

        @Test("A descriptor that is not an eventfd throws invalidHandle and is closed")
        func adoptWrongKind() throws {
            let pipe = try TestPipe()
            let memory = try TestMemfd(contents: "not a doorbell")
            let targets: Set = [try #require(descriptorTarget(pipe.readEnd)), try #require(descriptorTarget(memory.fd))]
            let before = try openDescriptorCount(pointingAt: targets)

            for original in [pipe.readEnd, pipe.writeEnd, memory.fd] {
                let copy = dup(original)
                try #require(copy >= 0)
                #expect(throws: NTStatus.invalidHandle) { _ = try Doorbell(adopting: OwnedDescriptor(adopting: copy)) }
            }
            let poll = try EventPoll()
            #expect(throws: NTStatus.invalidHandle) {
                _ = try Doorbell(adopting: OwnedDescriptor(adopting: dup(poll.fd)))
            }
            #expect(try openDescriptorCount(pointingAt: targets) == before)
        }

        @Test("A blocking eventfd is made non-blocking, so drain never blocks", .timeLimit(.minutes(1)))
        func adoptBlockingEventfd() throws {
            let raw = eventfd(0, Int32(EFD_CLOEXEC))
            try #require(raw >= 0)
            #expect(fcntl(raw, F_GETFL) & O_NONBLOCK == 0)
            let bell = try Doorbell(adopting: OwnedDescriptor(adopting: raw))
            #expect(fcntl(bell.fd, F_GETFL) & O_NONBLOCK != 0)
            #expect(bell.drain() == 0)
        }

        @Test("take hands the eventfd on without closing it")
        func take() throws {
            let bell = try Doorbell()
            let fd = bell.fd
            let descriptor = bell.take()
            #expect(descriptor.rawValue == fd)
            let again = try Doorbell(adopting: descriptor)
            again.ring()
            #expect(again.drain() == 1)
        }
    }
}
