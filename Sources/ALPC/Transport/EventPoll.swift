internal import CALPC
internal import CALPCSystem
internal import Glibc

/// The sole owner of an epoll instance: one wait over many descriptors (a port's listener,
/// its connections' sockets, doorbells), costing nothing per descriptor that is idle.
///
/// Each descriptor is added with a token chosen by the caller, and its events come back with
/// that token. Interest is level-triggered unless ``Interest/edgeTriggered`` is asked for.
/// Remove a descriptor before closing it: epoll forgets a descriptor only once every copy of
/// it is closed, including copies sent to other processes.
package struct EventPoll: ~Copyable, Sendable {
    /// The epoll instance.
    private let descriptor: OwnedDescriptor

    /// A new, empty epoll instance.
    ///
    /// - Throws: ``NTStatus/insufficientResources`` when the process is out of descriptors.
    package init() throws(NTStatus) {
        let result = system_epollCreate()
        guard result >= 0 else { throw NTStatus(transportErrno: -result) }
        descriptor = OwnedDescriptor(adopting: result)
    }

    /// The epoll instance's descriptor, still owned by this instance.
    package var fd: Int32 { descriptor.rawValue }

    /// Starts watching `fd` for `events`, reporting them with `token`. Hang-ups and errors are
    /// always reported.
    ///
    /// - Throws: ``NTStatus/invalidParameter`` when `fd` is already watched or cannot be
    ///   (a regular file); ``NTStatus/invalidHandle`` when it is not open.
    package func add(_ fd: Int32, token: UInt64, events: Interest = [.readable, .readHangUp]) throws(NTStatus) {
        try control(EPOLL_CTL_ADD, fd, token: token, events: events)
    }

    /// Changes the events and token of a watched descriptor.
    ///
    /// - Throws: ``NTStatus/invalidParameter`` when `fd` is not watched.
    package func modify(_ fd: Int32, token: UInt64, events: Interest) throws(NTStatus) {
        try control(EPOLL_CTL_MOD, fd, token: token, events: events)
    }

    /// Stops watching `fd`.
    ///
    /// - Throws: ``NTStatus/invalidParameter`` when `fd` is not watched.
    package func remove(_ fd: Int32) throws(NTStatus) {
        try control(EPOLL_CTL_DEL, fd, token: 0, events: [])
    }

    /// Waits at most `timeout` (`nil`: no limit) for events, and stores them at the start of
    /// `buffer` (at most 64 per call, however large the buffer).
    ///
    /// - Returns: How many events were stored; 0 when the time ran out or a signal
    ///   interrupted the wait, so the caller re-checks its own deadlines and calls again.
    package func wait(into buffer: inout Buffer, timeout: Duration?) throws(NTStatus) -> Int {
        let result = system_epollWait(fd, into: buffer.storage, timeoutNanoseconds: Self.nanoseconds(timeout))
        if result >= 0 {
            buffer.count = Int(result)
            return Int(result)
        }
        buffer.count = 0
        if result == -EINTR {
            return 0
        }
        throw NTStatus(transportErrno: -result)
    }

    /// `timeout` in whole nanoseconds, clamped to `0...Int64.max`; -1 for no limit.
    package static func nanoseconds(_ timeout: Duration?) -> Int64 {
        timeout?.clampedNanoseconds ?? -1
    }

    /// Closes the epoll instance now.
    package consuming func close() {
        descriptor.close()
    }

    /// Runs one `epoll_ctl(2)` operation.
    private func control(_ operation: Int32, _ watched: Int32, token: UInt64, events: Interest) throws(NTStatus) {
        let result = system_epollControl(fd, operation, watched, events: events.rawValue, token: token)
        guard result != 0 else { return }
        switch -result {
        case EEXIST, ENOENT, EPERM, ELOOP:
            throw .invalidParameter
        default:
            throw NTStatus(transportErrno: -result)
        }
    }
}

extension EventPoll {
    /// The events to watch a descriptor for.
    package struct Interest: OptionSet, Sendable, Hashable {
        /// The `EPOLL*` bits.
        package let rawValue: UInt32

        /// Creates a set from `EPOLL*` bits.
        package init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// Data can be read, or the peer closed. The corresponding C flag is `EPOLLIN`.
        package static let readable = Interest(rawValue: EPOLLIN.rawValue)

        /// Data can be written. The corresponding C flag is `EPOLLOUT`.
        package static let writable = Interest(rawValue: EPOLLOUT.rawValue)

        /// The peer shut down its sending side or closed. The corresponding C flag is
        /// `EPOLLRDHUP`.
        package static let readHangUp = Interest(rawValue: EPOLLRDHUP.rawValue)

        /// Report a change once rather than for as long as it lasts. The corresponding C flag
        /// is `EPOLLET`.
        package static let edgeTriggered = Interest(rawValue: EPOLLET.rawValue)
    }

    /// One descriptor's events, as ``EventPoll/wait(into:timeout:)`` reports them.
    package struct Event: Sendable, Hashable {
        /// The token the descriptor was added with.
        package let token: UInt64

        /// The `EPOLL*` bits that are set.
        package let events: UInt32

        /// Creates an event from a token and `EPOLL*` bits.
        package init(token: UInt64, events: UInt32) {
            self.token = token
            self.events = events
        }

        /// Data can be read, or the peer closed (`EPOLLIN`).
        package var isReadable: Bool { events & EPOLLIN.rawValue != 0 }

        /// Data can be written (`EPOLLOUT`).
        package var isWritable: Bool { events & EPOLLOUT.rawValue != 0 }

        /// The peer closed, died or shut down its sending side (`EPOLLHUP` or `EPOLLRDHUP`).
        package var isHangUp: Bool { events & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 }

        /// The descriptor has a pending error (`EPOLLERR`).
        package var isError: Bool { events & EPOLLERR.rawValue != 0 }
    }

    /// Room for the events of one ``EventPoll/wait(into:timeout:)``, allocated once and reused.
    package struct Buffer: ~Copyable {
        /// Where `epoll_wait(2)`'s events are copied.
        fileprivate let storage: UnsafeMutableBufferPointer<alpc_epoll_ready>

        /// How many events the last wait stored.
        package fileprivate(set) var count = 0

        /// Room for `capacity` events (at least 1; a wait stores at most 64).
        package init(capacity: Int = 64) {
            storage = .allocate(capacity: max(capacity, 1))
            storage.initialize(repeating: alpc_epoll_ready())
        }

        deinit {
            storage.deallocate()
        }

        /// How many events the buffer holds.
        package var capacity: Int { storage.count }

        /// The event at `index`, which must be less than ``count``.
        package subscript(index: Int) -> Event {
            precondition(index >= 0 && index < count, "event index out of range")
            return Event(token: storage[index].token, events: storage[index].events)
        }
    }
}
