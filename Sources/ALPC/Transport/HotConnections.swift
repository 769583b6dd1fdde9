internal import Synchronization

/// The connections a server's receiver polls without system calls (the *hot* ones), scanned
/// round-robin, and what their clients say about where they run: the receiver's side of the
/// wait strategy (see <doc:Transport>). Owned by the holder of the receive role.
///
/// A hot connection's request ring has ConsumerSleeping clear, so its client does not ring the
/// doorbell; a connection leaves the set when the receiver goes to sleep (all of them then
/// have the flag set and ring) or when it ends. A hot connection carries a hold
/// (``ServerChannel/hold()``), so that its requests' own holds never take or give back its
/// reference to itself while it is busy.
struct HotConnections: ~Copyable {
    private var channels: [ServerChannel] = []
    /// Where the next round-robin scan starts.
    private var cursor = 0 // below count, or 0

    /// Whether no connection is hot.
    var isEmpty: Bool { channels.isEmpty }

    /// How many connections are hot.
    var count: Int { channels.count }

    /// The connection `step` places after the scan's start (`step` below ``count``), not
    /// retained: the set holds it until ``remove(_:)``.
    @inline(__always)
    func scanned(_ step: Int) -> Unmanaged<ServerChannel> {
        Unmanaged.passUnretained(channels[wrapped(cursor &+ step)])
    }

    /// Starts the next scan after the connection `step` places after this one's start: the
    /// one that just delivered goes last.
    @inline(__always)
    mutating func advance(past step: Int) {
        cursor = channels.isEmpty ? 0 : wrapped(cursor &+ step &+ 1)
    }

    /// `position` (below twice ``count``) as an index of the set. A subtraction, not a
    /// division: a `div` costs tens of cycles, on the path from a request's arrival
    /// to its delivery.
    @inline(__always)
    private func wrapped(_ position: Int) -> Int {
        position >= channels.count ? position &- channels.count : position
    }

    /// Makes `channel` hot: its client need not ring, and its ring is polled.
    mutating func add(_ channel: ServerChannel) {
        channel.requestRing.consumerSleeping.pointee.store(0, ordering: .relaxed)
        channel.requestRing.consumerCpu.pointee.store(AdaptiveWait.currentCpuWord, ordering: .relaxed)
        if !channel.isHot {
            channel.isHot = true
            channel.hold()
            channels.append(channel)
        }
    }

    /// Stops polling `channel` (it is ending).
    mutating func remove(_ channel: ServerChannel) {
        guard let index = channels.firstIndex(where: { $0 === channel }) else { return }
        channels.remove(at: index)
        if cursor >= channels.count { cursor = 0 }
        channel.isHot = false
        channel.releaseHold()
    }

    deinit {
        for channel in channels { channel.releaseHold() }
    }

    /// True when a hot ring holds a record, or a hot connection is closing.
    mutating func hasDeliverable() -> Bool {
        for index in channels.indices where channels[index].consumer.hasRecord || channels[index].closing != nil {
            return true
        }
        return false
    }

    /// True while some hot connection's client is awake on another CPU than `me`, so spinning
    /// may pay. (A client that sleeps waits for something from the server and sends nothing
    /// meanwhile.)
    func clientRunsElsewhere(me: UInt32) -> Bool {
        for channel in channels {
            let peer = channel.replyRing.consumerCpu.pointee.load(ordering: .relaxed)
            if peer & AdaptiveWait.asleepBit == 0 && AdaptiveWait.peerIsElsewhere(peer, me: me) { return true }
        }
        return false
    }

    /// True while some hot connection's client is awake on the CPU `me`.
    func clientRunsHere(me: UInt32) -> Bool {
        for channel in channels where channel.replyRing.consumerCpu.pointee.load(ordering: .relaxed) == me {
            return true
        }
        return false
    }

    /// Tells every hot connection's client to ring from now on, then checks each ring once
    /// more (the other half of the client's publish-then-check). When a ring had a record
    /// after all, every connection stays hot and this returns true; otherwise the set empties.
    mutating func goColdAndRecheck() -> Bool {
        let asleep = AdaptiveWait.currentCpuWord | AdaptiveWait.asleepBit
        for channel in channels {
            channel.requestRing.consumerSleeping.pointee.store(WakeRequest.doorbell, ordering: .sequentiallyConsistent)
            channel.requestRing.consumerCpu.pointee.store(asleep, ordering: .relaxed)
        }
        if hasDeliverable() {
            for channel in channels { add(channel) }
            return true
        }
        for channel in channels {
            channel.isHot = false
            channel.releaseHold()
        }
        channels.removeAll(keepingCapacity: true)
        cursor = 0
        return false
    }
}
