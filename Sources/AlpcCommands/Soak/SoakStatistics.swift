import ALPC
import Synchronization

/// What the soak's threads counted, shared under a lock.
final class SoakStatistics: Sendable {
    private struct Counts {
        var replies = 0
        var statuses: [String: Int] = [:]
        var wrongReplies = 0
        var hungCalls = 0
        var connections = 0
        var attacks = 0
    }

    private let counts = Mutex(Counts())

    func reply() { counts.withLock { $0.replies += 1 } }
    func status(_ status: NTStatus) { counts.withLock { $0.statuses["\(status)", default: 0] += 1 } }
    func wrongReply() { counts.withLock { $0.wrongReplies += 1 } }
    func hungCall() { counts.withLock { $0.hungCalls += 1 } }
    func connection() { counts.withLock { $0.connections += 1 } }
    func attack() { counts.withLock { $0.attacks += 1 } }

    var replies: Int { counts.withLock { $0.replies } }
    var wrongReplies: Int { counts.withLock { $0.wrongReplies } }
    var hungCalls: Int { counts.withLock { $0.hungCalls } }
    var connections: Int { counts.withLock { $0.connections } }
    var attacks: Int { counts.withLock { $0.attacks } }
    var statusSummary: String {
        counts.withLock { counts in
            counts.statuses.isEmpty
                ? "none" : counts.statuses.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
    }
}
