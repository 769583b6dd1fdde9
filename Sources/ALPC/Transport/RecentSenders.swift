internal import Synchronization

/// Who sent each of a server's most recent messages: the kernel credentials of its client, and
/// whether that client lets the server impersonate it, by MessageId.
///
/// MessageIds are consecutive, so the last ``capacity`` messages occupy distinct entries of a
/// direct-mapped table. Only the holder of the receive role writes (as it delivers); any
/// thread reads, without a lock: an entry's MessageId is its sequence number, 0 while the
/// entry is rewritten, and a read counts only when it saw the same MessageId before and after.
final class RecentSenders: @unchecked Sendable {
    /// How many recent messages are remembered (a power of two).
    static let capacity = 4096

    /// What is remembered of a message's sender, packed as the table keeps it.
    struct Sender {
        /// The pid and uid.
        fileprivate let process: UInt64
        /// The gid, and whether the sender allows impersonation (bit 32).
        fileprivate let group: UInt64

        /// The sender with `peer`'s credentials, which allows impersonation or not.
        init(peer: PeerCredentials, allowsImpersonation: Bool) {
            process = peer.processId << 32 | UInt64(peer.uid)
            group = UInt64(allowsImpersonation ? 1 : 0) << 32 | UInt64(peer.gid)
        }

        fileprivate init(process: UInt64, group: UInt64) {
            self.process = process
            self.group = group
        }

        /// The sender's kernel credentials.
        var peer: PeerCredentials {
            PeerCredentials(
                pid: Int32(bitPattern: UInt32(truncatingIfNeeded: process >> 32)),
                uid: UInt32(truncatingIfNeeded: process), gid: UInt32(truncatingIfNeeded: group))
        }

        /// Whether the sender's QoS lets the server impersonate it.
        var allowsImpersonation: Bool { group >> 32 != 0 }
    }

    private struct Entry: ~Copyable {
        /// The message whose sender the entry holds; 0 while it holds none or is rewritten.
        let messageId = Atomic<UInt32>(0)
        /// The sender's pid and uid.
        let process = Atomic<UInt64>(0)
        /// The sender's gid, and whether it allows impersonation (bit 32).
        let group = Atomic<UInt64>(0)
    }

    private let table = MessageIdTable(count: RecentSenders.capacity) { Entry() }

    /// Remembers that message `messageId` came from `sender`. The holder of the receive role's
    /// call only.
    @inline(__always)
    func remember(_ messageId: UInt32, from sender: Sender) {
        let entry = table.entry(for: messageId)
        entry.pointee.messageId.store(0, ordering: .relaxed)
        // The 0 is seen before the fields change (stores are not reordered past this fence).
        atomicMemoryFence(ordering: .releasing)
        entry.pointee.process.store(sender.process, ordering: .relaxed)
        entry.pointee.group.store(sender.group, ordering: .relaxed)
        entry.pointee.messageId.store(messageId, ordering: .releasing)
    }

    /// The sender of message `messageId`, when it is among the last ``capacity`` messages.
    func sender(of messageId: UInt32) -> Sender? {
        guard messageId != 0 else { return nil }
        let entry = table.entry(for: messageId)
        guard entry.pointee.messageId.load(ordering: .acquiring) == messageId else { return nil }
        let process = entry.pointee.process.load(ordering: .relaxed)
        let group = entry.pointee.group.load(ordering: .relaxed)
        // The fields are read before the MessageId is read again.
        atomicMemoryFence(ordering: .acquiring)
        guard entry.pointee.messageId.load(ordering: .relaxed) == messageId else { return nil }
        return Sender(process: process, group: group)
    }
}
