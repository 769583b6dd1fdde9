internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// An application's event loop waiting for one client connection (epoll, poll): the
/// descriptor it polls, made on first use, and the requests that make the server ring it.
///
/// Once polled, a message that arrives while no thread of the process receives costs the
/// server one ring of the client's doorbell, which the descriptor's epoll set holds.
final class ClientPolling: Sendable {
    /// The epoll set and doorbell, made on first use.
    private let set = Mutex<PollSet?>(nil)
    /// Whether the application polls the connection: from then on, messages that arrive while
    /// no thread receives ring the doorbell.
    private let active = Atomic<Bool>(false)
    /// The ring whose records the descriptor announces.
    private let replyRing: RingView

    init(replyRing: RingView) {
        self.replyRing = replyRing
    }

    /// Whether the application polls the connection.
    var isActive: Bool { active.load(ordering: .relaxed) }

    /// The descriptor to poll, made on first use: its doorbell is sent to the server on
    /// `control` through `writer` (between two records), and rung at once when `hasKept` says
    /// a message already waits.
    func descriptor(control: borrowing ControlSocket, writer: RecordWriter, hasKept: () -> Bool) throws(NTStatus) -> Int32 {
        let made = try set.withLock { (set) throws(NTStatus) -> PollSet in
            if let set { return set }
            let made = try PollSet(control: control)
            // The server keeps the doorbell, to ring it when asked (``WakeRequest/doorbell``).
            try writer.sendBetweenRecords(.wakeup, fds: [made.wakeup.fd], on: control, timeout: .seconds(2))
            set = made
            return made
        }
        active.store(true, ordering: .relaxed)
        settle(made, hasKept: hasKept)
        return made.events.fd
    }

    /// Waits until `descriptor` is readable or `timeout` passes: true when a message may wait
    /// (or the connection ended), false on time-out.
    func wait(timeout: Duration?, descriptor: Int32) throws(NTStatus) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let deadline = WaitDeadline(timeout)
        while true {
            let result = Glibc.poll(&entry, 1, deadline.remainingMilliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            guard errno == EINTR else { throw NTStatus(transportErrno: errno) }
        }
    }

    /// Once polled, while no thread receives: asks the server to ring the doorbell for the
    /// next message, and rings it now when a record is unread or `hasKept` (a message already
    /// read waits, or the connection ended), so that the descriptor is readable while one may
    /// wait. (The request is made before the check, as a sleeper's flag is: a message published
    /// in between is not missed.)
    func settle(_ known: PollSet? = nil, hasKept: () -> Bool) {
        guard let set = known ?? set.withLock({ $0 }) else { return }
        set.wakeup.drain()
        replyRing.consumerSleeping.pointee.bitwiseOr(WakeRequest.doorbell, ordering: .sequentiallyConsistent)
        let unread = replyRing.tail.pointee.load(ordering: .acquiring) != replyRing.head.pointee.load(ordering: .relaxed)
        if unread || hasKept() { set.wakeup.ring() }
    }

    /// Rings the doorbell, if the connection is polled (it closed).
    func wake() {
        guard isActive else { return }
        set.withLock { $0 }?.wakeup.ring()
    }

    /// A thread starts receiving: the server need not ring the doorbell meanwhile.
    func suspend() {
        replyRing.consumerSleeping.pointee.bitwiseAnd(~WakeRequest.doorbell, ordering: .relaxed)
    }
}

/// What a polling application waits on for one client connection: an epoll set holding the
/// client's doorbell (the server rang: a message came) and its control socket (the server went
/// away).
final class PollSet: Sendable {
    /// The doorbell the server rings.
    let wakeup: Doorbell
    /// The epoll set whose descriptor the application polls.
    let events: EventPoll

    init(control: borrowing ControlSocket) throws(NTStatus) {
        let wakeup = try Doorbell()
        let events = try EventPoll()
        try events.add(wakeup.fd, token: 0, events: [.readable])
        try events.add(control.fd, token: 1, events: [.readHangUp])
        self.wakeup = wakeup
        self.events = events
    }
}
