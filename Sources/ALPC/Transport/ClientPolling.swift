internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// An application's event loop waiting for one client connection (epoll, poll): the
/// descriptor it polls, made on first use, and the requests that make the server ring it.
///
/// Once polled, a message that arrives while no thread of the process receives costs the
/// server one ring of the client's doorbell, which the descriptor's epoll set holds. A thread
/// that receives on a polled connection asks the server not to ring meanwhile
/// (``suspend()``) and to ring again afterwards (``settle(_:drainingAnyway:hasKept:)``); it
/// drains the doorbell (a system call) only when a ring may have come since it was last
/// drained, or when it found nothing, so a polled connection's blocking calls cost no more
/// system calls than an unpolled one's. (A ring lands some time after the publish it
/// announces; one that lands after the drain meant for it leaves the descriptor readable with
/// nothing to receive, which the descriptor's contract allows, until a receive finds nothing
/// and drains.)
final class ClientPolling: @unchecked Sendable {
    /// Guards the making of the epoll set and doorbell, on first use.
    private let making = LockedState<Void>(())
    /// The epoll set and doorbell once made: written once, holding `making`, before `active`
    /// is set, and read only after `active` was read set.
    nonisolated(unsafe) private var made: PollSet?
    /// Whether the application polls the connection: from then on, messages that arrive while
    /// no thread receives ring the doorbell.
    private let active = Atomic<Bool>(false)
    /// Whether the doorbell may hold a ring nobody drained: set when this process rings it, and
    /// when a thread that starts receiving finds that the server published while it was asked
    /// to ring.
    private let mayBeRung = Atomic<Bool>(false)
    /// The reply ring's Tail when the server was last asked to ring.
    private let tailWhenAsked = Atomic<UInt32>(0)
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
        if let set = publishedSet { return set.events.fd }
        let set = try making.withLock { (_) throws(NTStatus) -> PollSet in
            if let made { return made }
            let set = try PollSet(control: control)
            // The server keeps the doorbell, to ring it when asked (``WakeRequest/doorbell``).
            try writer.sendBetweenRecords(.wakeup, fds: [set.wakeup.fd], on: control, timeout: .seconds(2))
            made = set
            active.store(true, ordering: .releasing)
            return set
        }
        settle(set, hasKept: hasKept)
        return set.events.fd
    }

    /// The epoll set and doorbell, once made.
    private var publishedSet: PollSet? {
        active.load(ordering: .acquiring) ? made : nil
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
    /// in between is not missed.) The doorbell is drained first when a ring may have come, or
    /// with `drainingAnyway` (the receive found nothing).
    func settle(_ known: PollSet? = nil, drainingAnyway: Bool = false, hasKept: () -> Bool) {
        guard let set = known ?? publishedSet else { return }
        if mayBeRung.exchange(false, ordering: .acquiring) || drainingAnyway { set.wakeup.drain() }
        tailWhenAsked.store(replyRing.tail.pointee.load(ordering: .relaxed), ordering: .relaxed)
        replyRing.consumerSleeping.pointee.bitwiseOr(WakeRequest.doorbell, ordering: .sequentiallyConsistent)
        let unread = replyRing.tail.pointee.load(ordering: .acquiring) != replyRing.head.pointee.load(ordering: .relaxed)
        if unread || hasKept() { ring(set) }
    }

    /// Rings the doorbell, if the connection is polled (it closed).
    func wake() {
        guard let set = publishedSet else { return }
        ring(set)
    }

    private func ring(_ set: PollSet) {
        mayBeRung.store(true, ordering: .releasing)
        set.wakeup.ring()
    }

    /// A thread starts receiving: the server need not ring the doorbell meanwhile. When it
    /// was asked to, and published since (Tail moved), it may have rung: the next
    /// ``settle(_:drainingAnyway:hasKept:)`` drains the doorbell. (The server publishes, then reads the
    /// request; this clears the request, then reads Tail: a server that saw the request
    /// published before this reads Tail.)
    func suspend() {
        let asked = replyRing.consumerSleeping.pointee.bitwiseAnd(~WakeRequest.doorbell, ordering: .sequentiallyConsistent)
            .oldValue & WakeRequest.doorbell != 0
        if asked && replyRing.tail.pointee.load(ordering: .sequentiallyConsistent) != tailWhenAsked.load(ordering: .relaxed) {
            mayBeRung.store(true, ordering: .relaxed)
        }
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
